"""Per-minute, per-hour and per-day aggregates of probe results, kept as results arrive.

`results.record` calls `add(session, results)` in the same transaction as the raw insert, so a
rollup never disagrees with the results it summarises. A rollup row holds, for one grain, one
bucket (its start in epoch seconds), one target and one region: counts per outcome, quality
checks, sums and extremes of TTFT / latency / tokens per second / cost, and two fixed log-spaced
histograms (TTFT and latency) so p50/p95/p99 merge across buckets, targets and regions by
adding counts. Every column merges by addition (or min/max), so the write is one upsert per key.

Readers: `fetch` (chart series, re-bucketed in SQL to a step), `summary` (exact totals over any
range, composed from day, hour and minute rows) and `Agg`, the Python side of a row.

The table is a SQLAlchemy Core table on SQLModel's metadata rather than an SQLModel class: its 88
histogram columns are generated from the bin layout, which a class body cannot express cleanly.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Float,
    Integer,
    String,
    Table,
    case,
    func,
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
from monitor.store.db import Store

MINUTE, HOUR, DAY = 60, 3600, 86400
GRAINS = (MINUTE, HOUR, DAY)

# Histogram layout: bin 0 is below LO_MS, bin i (1..NBINS-2) is [LO_MS*R**(i-1), LO_MS*R**i),
# the last bin is everything above. R = 1.25 keeps any percentile within 25 % of the exact one
# (the estimate and the exact value share a bin); 44 bins reach 59 s, past every timeout.
LO_MS = 5.0
RATIO = 1.25
NBINS = 44
_LOG_R = math.log(RATIO)

OUTCOMES = [o.value for o in Outcome]
_KEY = ("grain", "bucket", "target", "region")
_SUMS = (
    ["n", "n_quality", "n_quality_ok", "ttft_n", "ttft_sum", "lat_n", "lat_sum"]
    + ["tps_n", "tps_sum", "cost_sum", "in_tokens", "out_tokens"]
    + [f"n_{o}" for o in OUTCOMES]
    + [f"ttft_h{i:02d}" for i in range(NBINS)]
    + [f"lat_h{i:02d}" for i in range(NBINS)]
)
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
_MINS = ("ttft_min", "lat_min")
_MAXS = ("ttft_max", "lat_max")
_EXTREMES: dict[str, Any] = {name: min for name in _MINS} | {name: max for name in _MAXS}
_FLOATS = {"ttft_sum", "lat_sum", "tps_sum", "cost_sum", *_MINS, *_MAXS}


def _column(name: str) -> Column[Any]:
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
    *[_column(name) for name in (*_SUMS, *_MINS, *_MAXS)],
    # SQLite: the key is the row's storage order, no second copy of it in a separate index.
    sqlite_with_rowid=False,
)


def bin_of(ms: float) -> int:
    """The histogram bin holding `ms`."""
    if ms < LO_MS:
        return 0
    return min(NBINS - 1, 1 + int(math.log(ms / LO_MS) / _LOG_R))


def bin_value(index: int) -> float:
    """A representative value of bin `index`: its geometric middle (the edges are a factor apart)."""
    if index == 0:
        return LO_MS / 2
    return LO_MS * math.pow(RATIO, index - 0.5)


@dataclass(slots=True)
class Agg:
    """The aggregate of some probe results: one rollup row, or many merged."""

    target: str = ""
    bucket: int = 0  # start, epoch seconds
    values: dict[str, float] = field(default_factory=dict)

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

    def percentile(self, metric: str, q: float) -> float | None:
        """The nearest-rank `q` quantile (0..1) of `ttft` or `lat` from the histogram.

        Within one bin of the exact value: a factor `RATIO` at most, clamped to the observed range.
        """
        n = int(self[f"{metric}_n"])
        if n <= 0:
            return None
        rank = max(1, math.ceil(q * n))
        seen = 0
        for i in range(NBINS):
            seen += int(self[f"{metric}_h{i:02d}"])
            if seen >= rank:
                value = bin_value(i)
                low, high = self.values.get(f"{metric}_min"), self.values.get(f"{metric}_max")
                if low is not None:
                    value = max(value, low)
                if high is not None:
                    value = min(value, high)
                return value
        return self.values.get(f"{metric}_max")

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
        return self


COLUMNS = [*_KEY, *_SUMS, *_MINS, *_MAXS]
_AT = {name: i for i, name in enumerate(COLUMNS)}
_BLANK: list[Any] = [None] * len(_KEY) + [0] * len(_SUMS) + [None] * (len(_MINS) + len(_MAXS))
_N, _NQ, _NQOK, _COST = _AT["n"], _AT["n_quality"], _AT["n_quality_ok"], _AT["cost_sum"]
_IN, _OUT, _TPSN, _TPSS = _AT["in_tokens"], _AT["out_tokens"], _AT["tps_n"], _AT["tps_sum"]
_OUTCOME_AT = {o: _AT[f"n_{o.value}"] for o in Outcome}
# Per timing metric: where its count, sum, first histogram bin, min and max sit in a row.
_TIMING_AT = [
    (m, _AT[f"{m}_n"], _AT[f"{m}_sum"], _AT[f"{m}_h00"], _AT[f"{m}_min"], _AT[f"{m}_max"])
    for m in ("ttft", "lat")
]


def _accumulate(row: list[Any], r: ProbeResult, timings: list[tuple[float, int]]) -> None:
    """Add result `r` into `row` (a list in COLUMNS order); `timings` are its (value, bin) pairs."""
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
        row[h_at + hbin] += 1
        low, high = row[min_at], row[max_at]
        row[min_at] = value if low is None or value < low else low
        row[max_at] = value if high is None or value > high else high
    if r.tokens_per_s is not None and r.outcome.answered:
        row[_TPSN] += 1
        row[_TPSS] += r.tokens_per_s


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
            (v, bin_of(v)) if answered and v is not None else (-1.0, 0)
            for v in (r.ttft_ms, r.latency_ms)
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
    return stmt.on_conflict_do_update(index_elements=list(_KEY), set_=updates)


def _extreme(dialect: str, which: str, a: Any, b: Any) -> ColumnElement[Any]:
    """min/max of two nullable values, ignoring a NULL side."""
    if dialect == "postgresql":  # LEAST/GREATEST ignore NULLs
        return func.least(a, b) if which == "min" else func.greatest(a, b)
    # SQLite's scalar min/max return NULL if any argument is NULL.
    pick = func.min if which == "min" else func.max
    return pick(func.coalesce(a, b), func.coalesce(b, a))


def _epoch(ts: datetime) -> int:
    return int((ts if ts.tzinfo else ts.replace(tzinfo=UTC)).timestamp())


def _aggregate_columns(
    step: int,
    names: Sequence[str] | None = None,
    groups: Mapping[str, Sequence[str]] | None = None,
    grain: int | None = None,
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
    query = (
        select(*cols)
        .where(t.grain == grain, t.bucket >= _epoch(since), t.bucket < _epoch(until))
        .group_by(literal_column("start"), literal_column("series"))
        .order_by(literal_column("start"), literal_column("series"))
    )
    if groups:
        targets = [m for members in groups.values() for m in members]
    if targets is not None:
        query = query.where(t.target.in_(list(targets)))
    with store.session() as session:
        return list(_aggs(session.execute(query)))


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
    with store.session() as session:
        for grain, start, end in plan(since, until, finest):
            cols = _aggregate_columns(0, columns)
            query = (
                select(*cols)
                .where(t.grain == grain, t.bucket >= start, t.bucket < end)
                .group_by(t.target)
            )
            if targets is not None:
                query = query.where(t.target.in_(list(targets)))
            for agg in _aggs(session.execute(query)):
                if agg.target in out:
                    out[agg.target].merge(agg)
                else:
                    agg.bucket = _epoch(since)
                    out[agg.target] = agg
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
