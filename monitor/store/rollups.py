"""Reading rollups: `fetch` (chart series, re-bucketed in SQL to a step), `summary` (exact
totals over any range, composed from day, hour and minute rows) and `Agg`, the Python side of a
row. The layout is `monitor.store.rollup_table`, whose grains and column groups (`MINUTE`,
`HOUR`, `DAY`, `COUNTS`, `UPTIME`, `FAILED`) are named here too, for readers.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import case, func, literal, literal_column, select
from sqlalchemy.sql.elements import ColumnElement

from monitor.figures import Figures
from monitor.result import Outcome, ProbeResult
from monitor.sketch import ZERO_KEY, Part, Sketch, parse_many, sum_by_key
from monitor.store.db import Store
from monitor.store.rollup_table import (
    COLUMNS,
    COUNTS,
    DAY,
    EXTREMES,
    FAILED,
    GRAINS,
    HISTS,
    HOUR,
    KEY,
    MAXS,
    METRICS,
    MINS,
    MINUTE,
    SUMS,
    UPTIME,
    rollups,
)
from monitor.store.rollup_write import aggregate

__all__ = [
    "COUNTS",
    "DAY",
    "FAILED",
    "GRAINS",
    "HISTS",
    "HOUR",
    "METRICS",
    "MINUTE",
    "UPTIME",
    "Agg",
    "fetch",
    "plan",
    "regions_since",
    "summary",
    "targets_since",
    "total",
]


_OUTCOME_COLUMNS = [(o.value, f"n_{o.value}") for o in Outcome]


@dataclass(slots=True)
class Agg:
    """The aggregate of some probe results: one rollup row, or many merged."""

    target: str = ""
    bucket: int = 0  # start, epoch seconds
    region: str = ""  # the region, when read per region (`by_region`); else "" (all merged)
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

    def figures(self) -> Figures:
        """These rollups as the one aggregate every surface reads (`monitor.figures.Figures`)."""
        values = self.values
        outcomes: Counter[str] = Counter(
            {o: int(n) for o, column in _OUTCOME_COLUMNS if (n := values.get(column))}
        )
        return Figures(
            probes=self.n,
            outcomes=outcomes,
            quality_checked=int(self["n_quality"]),
            quality_passed=int(self["n_quality_ok"]),
            cost_usd=self["cost_sum"],
            ttft_ms=self.sketch("ttft") or Sketch(),
            latency_ms=self.sketch("lat") or Sketch(),
            tokens_per_s=self.sketch("tps") or Sketch(),
            tokens_per_s_sum=self["tps_sum"],
            tokens_per_s_n=int(self["tps_n"]),
        )

    def merge(self, other: Agg) -> Agg:
        """Add `other` into this aggregate (in place) and return it."""
        mine = self.values
        for name, theirs in other.values.items():
            if theirs is None:
                continue
            if name in EXTREMES:
                ours = mine.get(name)
                mine[name] = theirs if ours is None else EXTREMES[name](ours, theirs)
            else:  # every other figure is a count or a sum
                mine[name] = mine.get(name, 0.0) + theirs
        for name, counts in other.hists.items():
            ours_h = self.hists.setdefault(name, {})
            for key, n in counts.items():
                ours_h[key] = ours_h.get(key, 0) + n
        return self


def _epoch(ts: datetime) -> int:
    return int((ts if ts.tzinfo else ts.replace(tzinfo=UTC)).timestamp())


def _aggregate_columns(
    step: int,
    names: Sequence[str] | None = None,
    groups: Mapping[str, Sequence[str]] | None = None,
    grain: int | None = None,
    by_region: bool = False,
) -> list[Any]:
    """(series, start[, region], figures…): the figures in `names` (default all but the
    sketches) summed per series and bucket of `step` seconds (0: one bucket over the range)."""
    cols = _key_columns(step, groups, grain, by_region)
    t = rollups.c
    wanted = set(names) if names is not None else None
    if wanted is not None and FAILED in wanted:
        failed = sum((t[f"n_{o.value}"] for o in Outcome if o.provider_failure), literal(0))
        cols.append(func.sum(failed).label(FAILED))
    cols += [func.sum(t[n]).label(n) for n in SUMS if wanted is None or n in wanted]
    cols += [func.min(t[n]).label(n) for n in MINS if wanted is None or n in wanted]
    cols += [func.max(t[n]).label(n) for n in MAXS if wanted is None or n in wanted]
    return cols


def _key_columns(
    step: int,
    groups: Mapping[str, Sequence[str]] | None,
    grain: int | None,
    by_region: bool,
) -> list[Any]:
    """The grouping columns: series (a target, or a group's name), bucket start, and region."""
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
    if by_region:
        cols.append(t.region.label("in_region"))
    return cols


def _group_keys(step: int, by_region: bool) -> list[Any]:
    keys: list[Any] = [literal_column("series")]
    if step:
        keys.insert(0, literal_column("start"))
    if by_region:
        keys.append(literal_column("in_region"))
    return keys


LISTED_BUCKETS = 200  # a read of at most this many buckets names them (see `_where`)


def _where(
    grain: int,
    start: int,
    end: int,
    targets: Sequence[str] | None,
    regions: Sequence[str] | None,
) -> list[Any]:
    t = rollups.c
    first = -(-start // grain) * grain  # buckets are multiples of their grain
    if 0 < (end - first) // grain <= LISTED_BUCKETS:
        # The buckets named, not a range: PostgreSQL multiplies the grain's and the range's
        # shares as if independent, and over the last two days, which minute rows crowd,
        # it took the 24 h chart's 4,600 hour rows for 118,000 and read the whole table in a
        # parallel sequential scan (1 GB at 26 M results). Named buckets are estimated each.
        where = [t.grain == grain, t.bucket.in_(list(range(first, end, grain)))]
    else:
        where = [t.grain == grain, t.bucket >= start, t.bucket < end]
    if targets is not None:
        where.append(t.target.in_(list(targets)))
    if regions is not None:
        where.append(t.region.in_(list(regions)))
    return where


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
    regions: Sequence[str] | None = None,
    by_region: bool = False,
) -> list[Agg]:
    """Rollups of `grain` with `since <= bucket < until`, merged over regions and re-bucketed to
    `step` seconds (a multiple of `grain`; default `grain`) in SQL, per target, oldest first.

    `columns` limits the figures read (e.g. `COUNTS` for a status bar); default all. `groups`
    (name -> member targets) merges members into one series named after the group, in SQL.
    `regions` reads only those regions' probes; `by_region` keeps each region apart (`Agg.region`)
    instead of merging them.
    """
    step = step or grain
    cols = _aggregate_columns(step, columns, groups, grain, by_region)
    if groups:
        targets = [m for members in groups.values() for m in members]
    where = _where(grain, _epoch(since), _epoch(until), targets, regions)
    keys = _group_keys(step, by_region)
    query = select(*cols).where(*where).group_by(*keys).order_by(*keys)
    with store.session() as session:
        found = list(_aggs(session.execute(query), by_region))
        sketches = _wanted_sketches(columns)
        if sketches:
            by_key = {(a.target, a.bucket, a.region): a for a in found}
            key_cols = _row_keys(step, groups, by_region)
            _add_sketches(session, sketches, key_cols, where, by_key, by_region)
    return found


def _wanted_sketches(columns: Sequence[str] | None) -> list[str]:
    """The sketch columns among `columns` (all of them for None)."""
    return list(HISTS) if columns is None else [c for c in columns if c in HISTS]


def _row_keys(step: int, groups: Mapping[str, Sequence[str]] | None, by_region: bool) -> list[Any]:
    """Per stored row (no grouping): its series, its bucket of `step` seconds (0: none) and
    region, as `_key_columns` groups them."""
    t = rollups.c
    cols: list[Any] = [_key_columns(step or 1, groups, None, False)[0]]
    size: ColumnElement[int] = literal_column(str(int(step or 1)))
    cols.append(t.bucket - t.bucket % size if step else literal(0))
    if by_region:
        cols.append(t.region)
    return cols


def _add_sketches(
    session: Any,
    names: Sequence[str],
    key_cols: Sequence[Any],
    where: Sequence[Any],
    by_key: Mapping[tuple[str, int, str], Agg],
    by_region: bool,
) -> None:
    """Add the stored sketches `names` of every row matching `where` into the Agg of its
    (series, start, region) in `by_key` (start 0 and region "" where not grouped by them);
    every Agg there gets an (empty at least) sketch per name.

    The stored forms are parsed all at once (`monitor.sketch.parse_many`) and each Agg's added
    up as arrays, then turned into a dict once: `json.loads` and a dict merge per row cost more
    than reading the rows (the page's 24 h chart, 4,800 hour rows: ~0.4 s of its first call)."""
    t = rollups.c
    rows = session.execute(select(*key_cols, *(t[name] for name in names)).where(*where)).all()
    width = len(key_cols)
    owners = [by_key.get((row[0], int(row[1]), row[2] if by_region else "")) for row in rows]
    for at, name in enumerate(names, width):
        parts: dict[int, list[Part]] = {}
        zeros: dict[int, int] = {}
        in_order: dict[int, bool] = {}
        for agg, (part, zero, _count, ordered) in zip(
            owners, parse_many([row[at] for row in rows]), strict=True
        ):
            if agg is None:
                continue
            mine = id(agg)
            if len(part[0]):
                parts.setdefault(mine, []).append(part)
                in_order[mine] = ordered
            if zero:
                zeros[mine] = zeros.get(mine, 0) + zero
        for agg in by_key.values():
            mine = id(agg)
            counts: dict[int, int] = {}
            found = parts.get(mine)
            if found:
                if len(found) == 1 and in_order[mine]:
                    keys, values = found[0]
                else:
                    import numpy as np

                    keys, values = sum_by_key(
                        np.concatenate([p[0] for p in found]), np.concatenate([p[1] for p in found])
                    )
                counts = dict(zip(keys.tolist(), values.tolist(), strict=True))
            if mine in zeros:
                counts[ZERO_KEY] = zeros[mine]
            agg.hists[name] = counts


def _aggs(result: Any, by_region: bool = False) -> Iterator[Agg]:
    """Aggs from rows of `_aggregate_columns` (series, start[, region], figures…); plain tuples,
    as SQLAlchemy's row mappings cost more than the query at tens of thousands of rows."""
    skip = 3 if by_region else 2
    names = list(result.keys())[skip:]
    for row in result:
        figures = row[skip:]
        if None in figures:  # NULL (a min or max where nothing was timed): left out
            values = {k: v for k, v in zip(names, figures, strict=True) if v is not None}
        else:  # the common row, in one C call: the page's first call makes ~25,000 of these
            values = dict(zip(names, figures, strict=True))
        region = row[2] if by_region else ""
        yield Agg(target=row[0], bucket=int(row[1]), region=region, values=values)


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
    regions: Sequence[str] | None = None,
) -> dict[str, Agg]:
    """Totals per target over `[since, until)` (to the minute, or to `finest`), from the fewest
    rollup rows. `columns` limits the figures read, as in `fetch`; `regions` reads only those
    regions' probes.

    Exact while minute rows exist (two days, see `retention`); further back, the minutes before
    the range's first whole hour are no longer kept, so a range starting then counts from it."""
    got = _summary(store, since, until, targets, columns, finest, regions, by_region=False)
    return {target: agg for (target, _region), agg in got.items()}


def summary_by_region(
    store: Store,
    since: datetime,
    until: datetime,
    *,
    targets: Sequence[str] | None = None,
    columns: Sequence[str] | None = None,
    finest: int = MINUTE,
    regions: Sequence[str] | None = None,
) -> dict[tuple[str, str], Agg]:
    """`summary` kept apart per region: (target, region) -> totals (`Agg.region` set)."""
    return _summary(store, since, until, targets, columns, finest, regions, by_region=True)


def _summary(
    store: Store,
    since: datetime,
    until: datetime,
    targets: Sequence[str] | None,
    columns: Sequence[str] | None,
    finest: int,
    regions: Sequence[str] | None,
    by_region: bool,
) -> dict[tuple[str, str], Agg]:
    out: dict[tuple[str, str], Agg] = {}
    sketches = _wanted_sketches(columns)
    keys = _group_keys(0, by_region)
    with store.session() as session:
        for grain, start, end in plan(since, until, finest):
            where = _where(grain, start, end, targets, regions)
            query = select(*_aggregate_columns(0, columns, by_region=by_region))
            found: dict[tuple[str, int, str], Agg] = {}
            for agg in _aggs(session.execute(query.where(*where).group_by(*keys)), by_region):
                agg.bucket = _epoch(since)
                found[(agg.target, 0, agg.region)] = agg
            if sketches:
                key_cols = _row_keys(0, None, by_region)
                _add_sketches(session, sketches, key_cols, where, found, by_region)
            for (target, _start, region), agg in found.items():
                if (target, region) in out:
                    out[(target, region)].merge(agg)
                else:
                    out[(target, region)] = agg
    return out


def total(aggs: Iterable[Agg], target: str = "") -> Agg:
    """Everything in `aggs` merged into one (e.g. a provider's targets, or the fleet)."""
    out = Agg(target=target)
    for agg in aggs:
        out.merge(agg)
    return out


def regions_since(store: Store, since: datetime) -> list[str]:
    """Regions with results since `since` (by day rows), sorted."""
    t = rollups.c
    start = _epoch(since)
    query = (
        select(t.region)
        .where(t.grain == DAY, t.bucket >= start - start % DAY)
        .distinct()
        .order_by(t.region)
    )
    with store.session() as session:
        return [row[0] for row in session.execute(query)]


def targets_since(store: Store, since: datetime) -> list[str]:
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


def first_seen(
    store: Store,
    since: datetime,
    targets: Sequence[str] | None = None,
    regions: Sequence[str] | None = None,
) -> dict[str, datetime]:
    """When each target's results begin at or after `since`: the first day from day rows, the
    hour within it from that day's hour rows, the minute within that from its minute rows (to the
    hour once minute rows are pruned), so the read stays small however long the range. How
    surfaces say "3 d of 30 d"."""
    t = rollups.c
    start = _epoch(since)
    where = [t.bucket >= start - start % DAY]
    if targets is not None:
        where.append(t.target.in_(list(targets)))
    in_regions = [t.region.in_(list(regions))] if regions is not None else []
    where += in_regions
    days_q = select(t.target, func.min(t.bucket)).where(t.grain == DAY, *where)
    out: dict[str, datetime] = {}
    with store.session() as session:
        first_day = {row[0]: int(row[1]) for row in session.execute(days_q.group_by(t.target))}
        if not first_day:
            return out
        lo, hi = min(first_day.values()), max(first_day.values()) + DAY
        hours_q = (
            select(t.target, func.min(t.bucket))
            .where(t.grain == HOUR, t.bucket >= max(lo, start - start % HOUR), t.bucket < hi)
            .where(t.target.in_(list(first_day)), *in_regions)
            .group_by(t.target)
        )
        first_hour: dict[str, int] = {}
        for target, bucket in session.execute(hours_q):
            if first_day[target] <= int(bucket) < first_day[target] + DAY:
                first_hour[target] = int(bucket)
        if first_hour:  # then the minute within that hour, while minute rows are kept
            lo, hi = min(first_hour.values()), max(first_hour.values()) + HOUR
            minutes_q = (
                select(t.target, func.min(t.bucket))
                .where(t.grain == MINUTE, t.bucket >= max(lo, start - start % MINUTE))
                .where(t.bucket < hi, t.target.in_(list(first_hour)), *in_regions)
                .group_by(t.target)
            )
            first_minute = {
                target: int(bucket)
                for target, bucket in session.execute(minutes_q)
                if first_hour[target] <= int(bucket) < first_hour[target] + HOUR
            }
            for target, bucket in first_hour.items():
                out[target] = datetime.fromtimestamp(
                    max(first_minute.get(target, bucket), start), UTC
                )
    for target, day in first_day.items():  # hour rows pruned: the day is what is known
        out.setdefault(target, datetime.fromtimestamp(max(day, start), UTC))
    return out


def agg_of(result: ProbeResult) -> Agg:
    """One raw result as an `Agg` (a chart's raw point)."""
    (row,) = aggregate([result], (1,))
    at = {name: i for i, name in enumerate(COLUMNS)}
    values = {
        name: float(value)
        for name, value in zip(COLUMNS, row, strict=True)
        if name not in KEY and name not in HISTS and value is not None
    }
    hists = {name: dict(row[at[name]] or {}) for name in HISTS}
    return Agg(target=result.target, bucket=int(row[1]), values=values, hists=hists)


_DAY_ROW_FIGURES = [
    "n",
    "n_quality",
    "n_quality_ok",
    "cost_sum",
    "tps_sum",
    "tps_n",
    *(f"n_{o.value}" for o in Outcome),
    *(f"{m}_{end}" for m in METRICS for end in ("min", "max")),
]


def day_figures(
    store: Store,
    start: int,
    end: int,
    targets: Sequence[str] | None,
    regions: Sequence[str] | None,
) -> Iterator[tuple[tuple[str, int, str], Figures]]:
    """Each day row with `start <= bucket < end` (of `targets` and `regions`, when given) as
    ((target, bucket, region), Figures), oldest first: what `Agg.figures` gives for it, the
    sketches parsed at once and kept as arrays (`Sketch.from_part`; a 90-day report reads
    ~18,000 of them, `monitor.reports.source.Rollups`)."""
    t = rollups.c
    query = (
        select(
            t.target,
            t.bucket,
            t.region,
            *(t[n] for n in _DAY_ROW_FIGURES),
            *(t[h] for h in HISTS),
        )
        .where(*_where(DAY, start, end, targets, regions))
        .order_by(t.bucket, t.target, t.region)
    )
    with store.session() as session:
        rows = session.execute(query).all()
    width = 3 + len(_DAY_ROW_FIGURES)
    sketches = [parse_many([row[width + i] for row in rows]) for i in range(len(HISTS))]
    at = {name: 3 + i for i, name in enumerate(_DAY_ROW_FIGURES)}
    outcomes = [(o.value, at[f"n_{o.value}"]) for o in Outcome]
    bounds = [(at[f"{m}_min"], at[f"{m}_max"]) for m in METRICS]
    for i, row in enumerate(rows):
        timings = []
        for (part, zeros, count, in_order), (low, high) in zip(
            (found[i] for found in sketches), bounds, strict=True
        ):
            timings.append(Sketch.from_part(part, zeros, count, row[low], row[high], in_order))
        ttft, latency, tps = timings
        yield (
            (row[0], int(row[1]), row[2]),
            Figures(
                probes=int(row[at["n"]] or 0),
                outcomes=Counter({o: int(n) for o, column in outcomes if (n := row[column])}),
                quality_checked=int(row[at["n_quality"]] or 0),
                quality_passed=int(row[at["n_quality_ok"]] or 0),
                cost_usd=float(row[at["cost_sum"]] or 0.0),
                ttft_ms=ttft,
                latency_ms=latency,
                tokens_per_s=tps,
                tokens_per_s_sum=float(row[at["tps_sum"]] or 0.0),
                tokens_per_s_n=int(row[at["tps_n"]] or 0),
            ),
        )
