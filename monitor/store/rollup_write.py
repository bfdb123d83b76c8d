"""Writing rollups: `results.record` calls `add(session, results)` in the same transaction as
the raw insert, so a rollup never disagrees with the results it summarises.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from datetime import UTC
from typing import Any

from sqlalchemy import func, literal_column
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session

from monitor.result import Outcome, ProbeResult
from monitor.sketch import key_of, to_json
from monitor.store.rollup_table import (
    COLUMNS,
    GRAINS,
    HISTS,
    KEY,
    MAXS,
    METRICS,
    MINS,
    SUMS,
    rollups,
)

_AT = {name: i for i, name in enumerate(COLUMNS)}
_BLANK: list[Any] = (
    [None] * len(KEY) + [0] * len(SUMS) + [None] * (len(MINS) + len(MAXS) + len(HISTS))
)
_N, _NQ, _NQOK, _COST = _AT["n"], _AT["n_quality"], _AT["n_quality_ok"], _AT["cost_sum"]
_IN, _OUT = _AT["in_tokens"], _AT["out_tokens"]
_OUTCOME_AT = {o: _AT[f"n_{o.value}"] for o in Outcome}
# Per metric: where its count, sum, sketch, min and max sit in a row.
_TIMING_AT = [
    (m, _AT[f"{m}_n"], _AT[f"{m}_sum"], _AT[f"{m}_hist"], _AT[f"{m}_min"], _AT[f"{m}_max"])
    for m in METRICS
]
_HIST_AT = [_AT[name] for name in HISTS]


def _accumulate(row: list[Any], r: ProbeResult, timings: list[tuple[float, int]]) -> None:
    """Add result `r` into `row` (a list in COLUMNS order; sketches as dicts); `timings` are its
    (value, sketch key) pairs per metric, value -1 for none."""
    row[_N] += 1
    row[_OUTCOME_AT[r.outcome]] += 1
    if r.quality_ok is not None:
        row[_NQ] += 1
        row[_NQOK] += r.quality_ok
    if r.cost_usd is not None:
        row[_COST] += r.cost_usd
    row[_IN] += r.input_tokens or 0
    row[_OUT] += r.output_tokens or 0
    for (value, hbin), (_, n_at, sum_at, h_at, min_at, max_at) in zip(
        timings, _TIMING_AT, strict=True
    ):
        if value < 0:
            continue
        row[n_at] += 1
        row[sum_at] += value
        counts = row[h_at]
        if counts is None:
            counts = row[h_at] = {}
        counts[hbin] = counts.get(hbin, 0) + 1
        low, high = row[min_at], row[max_at]
        row[min_at] = value if low is None or value < low else low
        row[max_at] = value if high is None or value > high else high


def aggregate(results: Iterable[ProbeResult], grains: Sequence[int] = GRAINS) -> list[list[Any]]:
    """The rollup rows (lists in COLUMNS order, one per grain, bucket, target, region) that
    `results` add up to."""
    rows: dict[tuple[int, int, str, str], list[Any]] = {}
    for r in results:
        ts = r.ts if r.ts.tzinfo is not None else r.ts.replace(tzinfo=UTC)  # naive means UTC
        epoch = int(ts.timestamp())
        # Timings of failed probes would only measure the failure; -1 marks "none".
        answered = r.outcome.answered
        timings = [
            (v, key_of(v)) if answered and v is not None and v >= 0 else (-1.0, 0)
            for v in (r.ttft_ms, r.latency_ms, r.tokens_per_s)
        ]
        for grain in grains:
            key = (grain, epoch - epoch % grain, r.target, r.region)
            row = rows.get(key)
            if row is None:
                row = rows[key] = _BLANK.copy()
                row[0:4] = key
            _accumulate(row, r, timings)
    return list(rows.values())


def add(session: Session, results: Sequence[ProbeResult], grains: Sequence[int] = GRAINS) -> int:
    """Fold `results` into the rollups within `session`'s transaction; returns rows upserted.

    One upsert per (grain, bucket, target, region): counts add, extremes take min/max, so
    concurrent writers (several monitors on one PostgreSQL) never lose each other's counts.
    The statement is compiled once and run with the driver's executemany: with 110 columns,
    SQLAlchemy's per-parameter processing would cost more than the database does.
    """
    return upsert(session, aggregate(results, grains))


def upsert(session: Session, rows: Sequence[list[Any]]) -> int:
    """Fold rollup rows (as `aggregate` returns them; the lists are not changed) into the table
    within `session`'s transaction; returns how many rows were upserted."""
    if not rows:
        return 0
    rows = [list(row) for row in rows]
    for row in rows:
        for at in _HIST_AT:
            if row[at] is not None:
                row[at] = to_json(row[at])
    connection = session.connection()
    sql, order = _upsert_sql(connection.dialect)
    params: list[Any]
    if order is None:
        params = [dict(zip(COLUMNS, row, strict=True)) for row in rows]
    elif order == list(range(len(COLUMNS))):
        params = [tuple(row) for row in rows]  # already in the statement's order
    else:
        params = [[row[i] for i in order] for row in rows]
    connection.exec_driver_sql(sql, params)
    return len(rows)


_COMPILED: dict[str, tuple[str, list[int] | None]] = {}


def _upsert_sql(dialect: Dialect) -> tuple[str, list[int] | None]:
    """The upsert as driver SQL, and the column order of its positional parameters (None when
    the driver takes named ones)."""
    if dialect.name not in _COMPILED:
        compiled = _upsert(dialect.name).compile(dialect=dialect, column_keys=COLUMNS)
        order = [_AT[name] for name in compiled.positiontup or []] if compiled.positional else None
        _COMPILED[dialect.name] = (str(compiled), order)
    return _COMPILED[dialect.name]


@functools.cache  # building the 110-column statement costs more than running it
def _upsert(dialect: str) -> Any:
    t = rollups.c
    if dialect == "postgresql":
        stmt: Any = pg_insert(rollups)
    elif dialect == "sqlite":
        stmt = sqlite_insert(rollups)
    else:
        raise ValueError(f"rollups need SQLite or PostgreSQL, not {dialect}")
    ex = stmt.excluded
    updates: dict[str, Any] = {name: t[name] + ex[name] for name in SUMS}
    updates |= {name: _extreme(dialect, "min", t[name], ex[name]) for name in MINS}
    updates |= {name: _extreme(dialect, "max", t[name], ex[name]) for name in MAXS}
    updates |= {name: _merge_sketch(dialect, name) for name in HISTS}
    return stmt.on_conflict_do_update(index_elements=list(KEY), set_=updates)


def _extreme(dialect: str, which: str, a: Any, b: Any) -> ColumnElement[Any]:
    """min/max of two nullable values, ignoring a NULL side."""
    if dialect == "postgresql":  # LEAST/GREATEST ignore NULLs
        return func.least(a, b) if which == "min" else func.greatest(a, b)
    # SQLite's scalar min/max return NULL if any argument is NULL.
    pick = func.min if which == "min" else func.max
    return pick(func.coalesce(a, b), func.coalesce(b, a))


def _merge_sketch(dialect: str, name: str) -> ColumnElement[Any]:
    """The stored sketches `rollups.name` and `excluded.name` added key by key, in SQL."""
    if dialect == "postgresql":
        return literal_column(
            "(SELECT coalesce(jsonb_object_agg(key, total)::text, '{}') FROM "
            "(SELECT key, sum(value::bigint) AS total FROM "
            f"(SELECT key, value FROM jsonb_each_text(coalesce(rollups.{name}, '{{}}')::jsonb) "
            "UNION ALL SELECT key, value FROM "
            f"jsonb_each_text(coalesce(excluded.{name}, '{{}}')::jsonb)) u GROUP BY key) s)"
        )
    return literal_column(
        "(SELECT json_group_object(key, total) FROM (SELECT key, sum(value) AS total FROM "
        f"(SELECT key, value FROM json_each(rollups.{name}) UNION ALL "
        f"SELECT key, value FROM json_each(excluded.{name})) GROUP BY key))"
    )
