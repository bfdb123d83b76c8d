"""A database from before the sketches (88 fixed histogram columns) upgrades in place."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import BigInteger, Column, Float, Integer, MetaData, String, Table, create_engine

from monitor.result import Outcome
from monitor.store import db, open_store, results, rollups
from monitor.store.tables import ProbeRow
from tests.store.test_rollups import probe

T0 = datetime(2026, 11, 20, 0, 0, tzinfo=UTC)
OUTCOMES = [o.value for o in Outcome]


def v1_rollups(metadata: MetaData) -> Table:
    """The rollups table as schema version 1 created it."""
    sums = (
        ["n", "n_quality", "n_quality_ok", "ttft_n", "ttft_sum", "lat_n", "lat_sum"]
        + ["tps_n", "tps_sum", "cost_sum", "in_tokens", "out_tokens"]
        + [f"n_{o}" for o in OUTCOMES]
        + [f"ttft_h{i:02d}" for i in range(44)]
        + [f"lat_h{i:02d}" for i in range(44)]
    )
    floats = {"ttft_sum", "lat_sum", "tps_sum", "cost_sum"}
    return Table(
        "rollups",
        metadata,
        Column("grain", Integer, primary_key=True),
        Column("bucket", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
        Column("target", String, primary_key=True),
        Column("region", String, primary_key=True),
        *[Column(n, Float if n in floats else Integer, nullable=False, server_default="0")
          for n in sums],
        *[Column(n, Float, nullable=True) for n in ("ttft_min", "lat_min", "ttft_max", "lat_max")],
    )  # fmt: skip


def v1_probe_results(metadata: MetaData) -> Table:
    """The results table of schema version 1: today's columns but those added since."""
    later = {"retry_reason", "top_logprobs"}
    table: Table = ProbeRow.__table__  # type: ignore[attr-defined]
    return Table(
        "probe_results", metadata, *(c._copy() for c in table.columns if c.name not in later)
    )


def v1_bin(ms: float) -> int:
    return 0 if ms < 5 else min(43, 1 + int(math.log(ms / 5) / math.log(1.25)))


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_an_old_database_keeps_its_rollups_and_gains_sketches(
    backend: str, request: pytest.FixtureRequest
) -> None:
    url = request.getfixturevalue("sqlite_url" if backend == "sqlite" else "pg_url")
    engine = create_engine(url)
    metadata = MetaData()
    old = v1_rollups(metadata)
    version = Table("schema_version", metadata, Column("id", Integer, primary_key=True),
                    Column("version", Integer))  # fmt: skip
    v1_probe_results(metadata)
    metadata.create_all(engine)
    day = int(T0.timestamp())
    row: dict[str, object] = {"grain": rollups.DAY, "bucket": day, "target": "a/x",
                              "region": "default", "n": 3, "n_ok": 3, "lat_n": 3,
                              "lat_sum": 2700.0, "lat_min": 800.0, "lat_max": 1000.0}  # fmt: skip
    for ms in (800.0, 900.0, 1000.0):
        key = f"lat_h{v1_bin(ms):02d}"
        row[key] = int(row.get(key, 0)) + 1  # type: ignore[call-overload]
    with engine.begin() as conn:
        conn.execute(old.insert(), [row])
        conn.execute(version.insert(), [{"id": 1, "version": 1}])
    engine.dispose()

    store = open_store(url)
    try:
        assert db.schema_version(store) == db.SCHEMA_VERSION
        (agg,) = rollups.fetch(store, rollups.DAY, T0, T0 + timedelta(days=1))
        assert (agg.n, agg.count("ok"), agg["lat_sum"]) == (3, 3, 2700.0)
        median = agg.percentile("lat", 0.5)
        assert median is not None and 900 / 1.25 <= median <= 900 * 1.25  # the old precision
        # New results add to the migrated row, sketches included.
        results.record(store, [probe(T0 + timedelta(hours=1), target="a/x", latency_ms=950.0)])
        (agg,) = rollups.fetch(store, rollups.DAY, T0, T0 + timedelta(days=1))
        assert agg.n == 4 and sum(agg.hists["lat_hist"].values()) == 4
        assert sum(agg.hists["tps_hist"].values()) == 1
    finally:
        store.close()
