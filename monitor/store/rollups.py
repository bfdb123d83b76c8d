"""Per-minute, per-hour and per-day aggregates of probe results, kept as results arrive.

`results.record` calls `add(session, results)` in the same transaction as the raw insert, so a
rollup never disagrees with the results it summarises. A rollup row holds, for one grain, one
bucket (its start in epoch seconds), one target and one region: counts per outcome, quality
checks, sums and extremes of TTFT / latency / tokens per second / cost, and three sketches
(TTFT, latency, tokens per second; `monitor.sketch`, 1 % relative accuracy) kept as sparse JSON
objects of bucket -> count, so p50/p95/p99 merge across buckets, targets and regions by adding
counts. Every column merges by addition (min/max; the sketches key by key, in SQL), so the write
is one upsert per key.

Readers: `fetch` (chart series, re-bucketed in SQL to a step), `summary` (exact totals over any
range, composed from day, hour and minute rows) and `Agg`, the Python side of a row.

The table is a SQLAlchemy Core table on SQLModel's metadata rather than an SQLModel class: its
columns are generated from the outcome list, which a class body cannot express cleanly.
Databases from before the sketches (88 fixed histogram columns, bins a factor 1.25 apart) are
rebuilt by `migrate_to_sketches`, their histograms carried over at their old precision.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    case,
    func,
    inspect,
    literal,
    literal_column,
    select,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, SQLModel

from monitor.result import Outcome, ProbeResult
from monitor.sketch import Sketch, from_json, key_of, to_json
from monitor.store.db import Store

MINUTE, HOUR, DAY = 60, 3600, 86400
GRAINS = (MINUTE, HOUR, DAY)

OUTCOMES = [o.value for o in Outcome]
_KEY = ("grain", "bucket", "target", "region")
_SUMS = (
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
_MINS = ("ttft_min", "lat_min", "tps_min")
_MAXS = ("ttft_max", "lat_max", "tps_max")
_EXTREMES: dict[str, Any] = {name: min for name in _MINS} | {name: max for name in _MAXS}
_FLOATS = {"ttft_sum", "lat_sum", "tps_sum", "cost_sum", *_MINS, *_MAXS}


def _column(name: str) -> Column[Any]:
    if name in HISTS:
        return Column(name, Text, nullable=True)
    if name in _MINS or name in _MAXS:
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
    *[_column(name) for name in (*_SUMS, *_MINS, *_MAXS, *HISTS)],
    # SQLite: the key is the row's storage order, no second copy of it in a separate index.
    sqlite_with_rowid=False,
)


@dataclass(slots=True)
class Agg:
    """The aggregate of some probe results: one rollup row, or many merged."""

    target: str = ""
    bucket: int = 0  # start, epoch seconds
    values: dict[str, float] = field(default_factory=dict)
    hists: dict[str, dict[int, int]] = field(default_factory=dict)  # "lat_hist" -> counts

    def __getitem__(self, name: str) -> float:
        return float(self.values.get(name, 0.0))

    @property
    def start(self) -> datetime:
        return datetime.fromtimestamp(self.bucket, UTC)

    @property
    def n(self) -> int:
        return int(self["n"])

    def count(self, outcome: str) -> int:
        return int(self[f"n_{outcome}"])

    @property
    def failures(self) -> int:
        """Probes that count against the provider (see `Outcome.provider_failure`)."""
        if FAILED in self.values:  # summed in SQL (see UPTIME)
            return int(self.values[FAILED])
        return sum(self.count(o.value) for o in Outcome if o.provider_failure)

    @property
    def uptime(self) -> float | None:
        """Share of probes the provider did not fail (cancelled ones excluded); None without data."""
        counted = self.values.get("n", 0) - self.values.get("n_cancelled", 0)
        return None if counted <= 0 else 1.0 - self.failures / counted

    @property
    def error_rate(self) -> float | None:
        return None if self.uptime is None else 1.0 - self.uptime

    @property
    def quality_rate(self) -> float | None:
        """Canary pass rate among answers that were checked."""
        checked = self["n_quality"]
        return None if checked <= 0 else self["n_quality_ok"] / checked

    def mean(self, metric: str) -> float | None:
        """Mean of `ttft`, `lat` or `tps`."""
        n = self[f"{metric}_n"]
        return None if n <= 0 else self[f"{metric}_sum"] / n

    def sketch(self, metric: str) -> Sketch | None:
        """The sketch of `ttft`, `lat` or `tps`, clamped to the observed extremes; None when its
        histogram was not read."""
        counts = self.hists.get(f"{metric}_hist")
        if counts is None:
            return None
        low, high = self.values.get(f"{metric}_min"), self.values.get(f"{metric}_max")
        return Sketch.from_counts(counts, low, high)

    def percentile(self, metric: str, q: float) -> float | None:
        """The `q` quantile (0..1) of `ttft`, `lat` or `tps` from its sketch: within 1 % of a
        sample value at that rank (`monitor.sketch`); None without data or when not read."""
        sketch = self.sketch(metric)
        return None if sketch is None else sketch.quantile(q)

    def merge(self, other: Agg) -> Agg:
        """Add `other` into this aggregate (in place) and return it."""
        mine = self.values
        for name, theirs in other.values.items():
            if theirs is None:
                continue
            if name in _EXTREMES:
                ours = mine.get(name)
                mine[name] = theirs if ours is None else _EXTREMES[name](ours, theirs)
            else:  # every other figure is a count or a sum
                mine[name] = mine.get(name, 0.0) + theirs
        for name, counts in other.hists.items():
            ours_h = self.hists.setdefault(name, {})
            for key, n in counts.items():
                ours_h[key] = ours_h.get(key, 0) + n
        return self


COLUMNS = [*_KEY, *_SUMS, *_MINS, *_MAXS, *HISTS]
_AT = {name: i for i, name in enumerate(COLUMNS)}
_BLANK: list[Any] = (
    [None] * len(_KEY) + [0] * len(_SUMS) + [None] * (len(_MINS) + len(_MAXS) + len(HISTS))
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
    rows = aggregate(results, grains)
    if not rows:
        return 0
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
    updates: dict[str, Any] = {name: t[name] + ex[name] for name in _SUMS}
    updates |= {name: _extreme(dialect, "min", t[name], ex[name]) for name in _MINS}
    updates |= {name: _extreme(dialect, "max", t[name], ex[name]) for name in _MAXS}
    updates |= {name: _merge_sketch(dialect, name) for name in HISTS}
    return stmt.on_conflict_do_update(index_elements=list(_KEY), set_=updates)


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


def _epoch(ts: datetime) -> int:
    return int((ts if ts.tzinfo else ts.replace(tzinfo=UTC)).timestamp())


def _aggregate_columns(
    step: int,
    names: Sequence[str] | None = None,
    groups: Mapping[str, Sequence[str]] | None = None,
    grain: int | None = None,
    sketches: Sequence[str] = (),
) -> list[Any]:
    t = rollups.c
    # The step is rendered as a literal: PostgreSQL only matches the GROUP BY expression to the
    # selected one when they carry no separate bound parameters (GROUP BY names the labels).
    size: ColumnElement[int] = literal_column(str(int(step)))
    start = (t.bucket - t.bucket % size if step else func.min(t.bucket)).label("start")
    if step == grain:  # no re-bucketing: group by the key's own column, in the key's order
        start = t.bucket.label("start")
    # Labelled "series", not "target": PostgreSQL resolves a GROUP BY name to an input column first.
    label: Any = t.target.label("series")
    if groups:
        label = case(
            *[(t.target.in_(list(members)), literal(name)) for name, members in groups.items()],
            else_=literal(""),
        ).label("series")
    cols: list[Any] = [label, start]
    if sketches:  # the sketches are not summed in SQL: their rows are read and added in Python
        return cols + [t[name] for name in sketches]
    wanted = set(names) if names is not None else None
    if wanted is not None and FAILED in wanted:
        failed = sum((t[f"n_{o.value}"] for o in Outcome if o.provider_failure), literal(0))
        cols.append(func.sum(failed).label(FAILED))
    cols += [func.sum(t[n]).label(n) for n in _SUMS if wanted is None or n in wanted]
    cols += [func.min(t[n]).label(n) for n in _MINS if wanted is None or n in wanted]
    cols += [func.max(t[n]).label(n) for n in _MAXS if wanted is None or n in wanted]
    return cols


def fetch(
    store: Store,
    grain: int,
    since: datetime,
    until: datetime,
    *,
    targets: Sequence[str] | None = None,
    step: int | None = None,
    columns: Sequence[str] | None = None,
    groups: Mapping[str, Sequence[str]] | None = None,
) -> list[Agg]:
    """Rollups of `grain` with `since <= bucket < until`, merged over regions and re-bucketed to
    `step` seconds (a multiple of `grain`; default `grain`) in SQL, per target, oldest first.

    `columns` limits the figures read (e.g. `COUNTS` for a status bar); default all. `groups`
    (name -> member targets) merges members into one series named after the group, in SQL.
    """
    step = step or grain
    t = rollups.c
    cols = _aggregate_columns(step, columns, groups, grain)
    where = [t.grain == grain, t.bucket >= _epoch(since), t.bucket < _epoch(until)]
    if groups:
        targets = [m for members in groups.values() for m in members]
    if targets is not None:
        where.append(t.target.in_(list(targets)))
    query = (
        select(*cols)
        .where(*where)
        .group_by(literal_column("start"), literal_column("series"))
        .order_by(literal_column("start"), literal_column("series"))
    )
    with store.session() as session:
        found = list(_aggs(session.execute(query)))
        sketches = _wanted_sketches(columns)
        if sketches:
            by_key = {(a.target, a.bucket): a for a in found}
            hist_cols = _aggregate_columns(step, None, groups, grain, sketches)
            rows = session.execute(select(*hist_cols).where(*where))
            _add_sketches(rows, sketches, lambda series, start: by_key.get((series, start)))
    return found


def _wanted_sketches(columns: Sequence[str] | None) -> list[str]:
    """The sketch columns among `columns` (all of them for None)."""
    return list(HISTS) if columns is None else [c for c in columns if c in HISTS]


def _add_sketches(rows: Any, names: Sequence[str], agg_of: Any) -> None:
    """Add each row's stored sketches (series, start, sketch…) into the Agg `agg_of(series,
    start)` gives; every Agg found gets an (empty at least) sketch per name."""
    seen: set[int] = set()
    for row in rows:
        agg = agg_of(row[0], int(row[1]))
        if agg is None:
            continue
        if id(agg) not in seen:
            seen.add(id(agg))
            for name in names:
                agg.hists.setdefault(name, {})
        for name, text in zip(names, row[2:], strict=True):
            if not text:
                continue
            mine = agg.hists[name]
            for key, n in from_json(text).items():
                mine[key] = mine.get(key, 0) + n


def _aggs(result: Any) -> Iterator[Agg]:
    """Aggs from rows of `_aggregate_columns` (series, start, figures…); plain tuples, as
    SQLAlchemy's row mappings cost more than the query at tens of thousands of rows."""
    names = list(result.keys())[2:]
    for row in result:
        values = {k: v for k, v in zip(names, row[2:], strict=True) if v is not None}
        yield Agg(target=row[0], bucket=int(row[1]), values=values)


def plan(since: datetime, until: datetime, finest: int = MINUTE) -> list[tuple[int, int, int]]:
    """Cover `[since, until)`, widened to whole `finest` buckets, with (grain, start, end) pieces:
    whole days from day rows, whole hours from hour rows, the rest from minute rows (exact while
    they exist). With `finest=HOUR`, no minute rows are read: the range is widened to hours."""
    lo, hi = _epoch(since), _epoch(until)
    lo -= lo % finest
    hi = -(-hi // finest) * finest  # the current bucket counts, though it has not ended
    pieces: list[tuple[int, int, int]] = []

    def cover(a: int, b: int, grains: tuple[int, ...]) -> None:
        if a >= b:
            return
        if not grains:
            return
        grain, finer = grains[0], grains[1:]
        first = -(-a // grain) * grain
        last = b - b % grain
        if first < last:
            pieces.append((grain, first, last))
            cover(a, first, finer)
            cover(last, b, finer)
        else:
            cover(a, b, finer)

    cover(lo, hi, tuple(g for g in (DAY, HOUR, MINUTE) if g >= finest))
    return sorted(pieces, key=lambda p: p[1])


def summary(
    store: Store,
    since: datetime,
    until: datetime,
    *,
    targets: Sequence[str] | None = None,
    columns: Sequence[str] | None = None,
    finest: int = MINUTE,
) -> dict[str, Agg]:
    """Totals per target over `[since, until)` (to the minute, or to `finest`), from the fewest
    rollup rows. `columns` limits the figures read, as in `fetch`.

    Exact while minute rows exist (two days, see `retention`); further back, the minutes before
    the range's first whole hour are no longer kept, so a range starting then counts from it."""
    out: dict[str, Agg] = {}
    t = rollups.c
    sketches = _wanted_sketches(columns)
    with store.session() as session:
        for grain, start, end in plan(since, until, finest):
            where = [t.grain == grain, t.bucket >= start, t.bucket < end]
            if targets is not None:
                where.append(t.target.in_(list(targets)))
            query = select(*_aggregate_columns(0, columns)).where(*where).group_by(t.target)
            for agg in _aggs(session.execute(query)):
                if agg.target in out:
                    out[agg.target].merge(agg)
                else:
                    agg.bucket = _epoch(since)
                    out[agg.target] = agg
            if sketches:
                cols = [t.target, t.bucket, *(t[name] for name in sketches)]
                rows = session.execute(select(*cols).where(*where))
                _add_sketches(rows, sketches, lambda series, _start: out.get(series))
    return out


def total(aggs: Iterable[Agg], target: str = "") -> Agg:
    """Everything in `aggs` merged into one (e.g. a provider's targets, or the fleet)."""
    out = Agg(target=target)
    for agg in aggs:
        out.merge(agg)
    return out


def known_targets(store: Store, since: datetime) -> list[str]:
    """Targets with results since `since` (by day rows: cheap however many raw results exist)."""
    t = rollups.c
    start = _epoch(since)
    query = (
        select(t.target)
        .where(t.grain == DAY, t.bucket >= start - start % DAY)
        .distinct()
        .order_by(t.target)
    )
    with store.session() as session:
        return [row[0] for row in session.execute(query)]


# --- the migration from fixed histogram columns -----------------------------------------------

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
