"""Rebuilding a rollups table from before the sketches (schema migration 2, `monitor.store.db`)."""

from __future__ import annotations

from sqlalchemy import Connection, MetaData, Table, inspect, select

from monitor.sketch import key_of, to_json
from monitor.store.rollup_table import COLUMNS, rollups

# The layout before the sketches: bin 0 below 5 ms, bin i in [5·1.25^(i-1), 5·1.25^i), 44 bins.
_V1_LO_MS, _V1_RATIO, _V1_BINS = 5.0, 1.25, 44


def _v1_bin_value(index: int) -> float:
    return _V1_LO_MS / 2 if index == 0 else _V1_LO_MS * _V1_RATIO ** (index - 0.5)


def migrate_to_sketches(conn: Connection, batch: int = 5000) -> None:
    """Rebuild a `rollups` table that still has the 88 fixed histogram columns: every row is
    copied, each old bin's count carried into the sketch key of its representative value (so
    old rows keep their old precision, within a factor 1.25), tokens/s without a sketch. A table
    already in the new layout is left alone."""
    present = {c["name"] for c in inspect(conn).get_columns("rollups")}
    if "lat_h00" not in present:
        return
    conn.exec_driver_sql("ALTER TABLE rollups RENAME TO rollups_v1")
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("ALTER INDEX rollups_pkey RENAME TO rollups_v1_pkey")
    rollups.create(conn)
    old = Table("rollups_v1", MetaData(), autoload_with=conn)
    kept = [name for name in COLUMNS if name in present]
    bins = {
        metric: [(old.c[f"{metric}_h{i:02d}"], key_of(_v1_bin_value(i))) for i in range(_V1_BINS)]
        for metric in ("ttft", "lat")
    }
    query = select(*(old.c[n] for n in kept), *(c for m in bins.values() for c, _ in m))
    rows = conn.execute(query.execution_options(yield_per=batch))
    for part in rows.partitions(batch):
        values = []
        for row in part:
            item = dict(zip(kept, row[: len(kept)], strict=True))
            at = len(kept)
            for metric, columns in bins.items():
                counts: dict[int, int] = {}
                for _, key in columns:
                    n = int(row[at] or 0)
                    at += 1
                    if n:
                        counts[key] = counts.get(key, 0) + n
                item[f"{metric}_hist"] = to_json(counts) if counts else None
            values.append(item)
        conn.execute(rollups.insert(), values)
    conn.exec_driver_sql("DROP TABLE rollups_v1")
