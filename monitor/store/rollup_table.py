"""The rollups table's layout: per-minute, per-hour and per-day aggregates of probe results.

A rollup row holds, for one grain, one bucket (its start in epoch seconds), one target and one
region: counts per outcome, quality checks, sums and extremes of TTFT / latency / tokens per
second / cost, and three sketches (TTFT, latency, tokens per second; `monitor.sketch`, 1 %
relative accuracy) kept as sparse JSON objects of bucket -> count, so p50/p95/p99 merge across
buckets, targets and regions by adding counts. Every column merges by addition (min/max; the
sketches key by key), so a write is one upsert per key (`rollup_write`) and a read sums rows
(`rollups`).

The table is a SQLAlchemy Core table on SQLModel's metadata rather than an SQLModel class: its
columns are generated from the outcome list, which a class body cannot express cleanly.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, Column, Float, Integer, String, Table, Text
from sqlmodel import SQLModel

from monitor.result import Outcome

MINUTE, HOUR, DAY = 60, 3600, 86400
GRAINS = (MINUTE, HOUR, DAY)

OUTCOMES = [o.value for o in Outcome]
KEY = ("grain", "bucket", "target", "region")
SUMS = (
    ["n", "n_quality", "n_quality_ok", "ttft_n", "ttft_sum", "lat_n", "lat_sum"]
    + ["tps_n", "tps_sum", "cost_sum", "in_tokens", "out_tokens"]
    + [f"n_{o}" for o in OUTCOMES]
)
# The sketches (`monitor.sketch`'s stored form; NULL is empty), one per timing metric.
METRICS = ("ttft", "lat", "tps")
HISTS = tuple(f"{m}_hist" for m in METRICS)
# `failed` is not a stored column: it is the sum of the failure outcomes, added up in SQL.
FAILED = "failed"
# The figures uptime and a status bar need: counts, quality, mean latency, cost; no histograms.
UPTIME = ["n", FAILED, "n_cancelled", "n_quality", "n_quality_ok", "lat_n", "lat_sum", "cost_sum"]
# The figures a status bar needs: counts, quality and mean latency, no histograms.
COUNTS = [
    "n",
    "n_quality",
    "n_quality_ok",
    "lat_n",
    "lat_sum",
    "ttft_n",
    "ttft_sum",
    "cost_sum",
] + [f"n_{o}" for o in OUTCOMES]
MINS = ("ttft_min", "lat_min", "tps_min")
MAXS = ("ttft_max", "lat_max", "tps_max")
EXTREMES: dict[str, Any] = {name: min for name in MINS} | {name: max for name in MAXS}
_FLOATS = {"ttft_sum", "lat_sum", "tps_sum", "cost_sum", *MINS, *MAXS}


def _column(name: str) -> Column[Any]:
    if name in HISTS:
        return Column(name, Text, nullable=True)
    if name in MINS or name in MAXS:
        return Column(name, Float, nullable=True)
    kind = Float if name in _FLOATS else Integer
    return Column(name, kind, nullable=False, server_default="0")


rollups = Table(
    "rollups",
    SQLModel.metadata,
    Column("grain", Integer, primary_key=True),
    Column("bucket", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("target", String, primary_key=True),
    Column("region", String, primary_key=True),
    *[_column(name) for name in (*SUMS, *MINS, *MAXS, *HISTS)],
    # SQLite: the key is the row's storage order, no second copy of it in a separate index.
    sqlite_with_rowid=False,
)

COLUMNS = [*KEY, *SUMS, *MINS, *MAXS, *HISTS]
