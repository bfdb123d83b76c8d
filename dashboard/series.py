"""The page's charts: one line per target (or per provider when many are shown), at a rollup
grain chosen so no query reads more than `ROW_BUDGET` rows, or probe by probe when there are few.

Points whose bucket ended more than `SETTLED` ago no longer change: they are read once and kept
(per database, targets and grain), so a refresh reads only the newest buckets' rollups and their
sketches (adding up the stored sketches is what a chart read costs most).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from monitor.store import Store, dashboard_queries, results, rollups
from monitor.store.rollup_table import MAXS, MINS, SUMS
from monitor.store.rollups import DAY, HOUR, MINUTE, Agg

ROW_BUDGET = 12_000  # rollup rows one chart query may read (summing 110 columns each)
MAX_POINTS = 180  # points per series on a chart
MAX_LINES = 10  # more targets than this are drawn one line per provider
# Every figure but the tokens/s sketch: the charts draw TTFT and latency percentiles, the
# tokens/s mean, so reading (and adding up) a third sketch per row would only cost time.
CHARTED = [*SUMS, *MINS, *MAXS, "ttft_hist", "lat_hist"]
RAW_POINTS = 600  # a span with at most this many probes is charted probe by probe
# A bucket this long past its end is settled: a probe begun in it has been stored (the longest
# timeout is well under this), so its point is kept rather than read again.
SETTLED = 15 * 60
_KEPT_SERIES = 16  # kept series sets (a few filter and range choices per page), never unbounded
_STEPS = [60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800]


@dataclass(slots=True)
class Series:
    """Chart data: per line (a target, or a provider when many targets are shown), its points."""

    grain: int
    step: int
    by: str  # "target" | "provider"
    lines: dict[str, list[Agg]]


def choose_grain(span: float, lines: int) -> tuple[int, int]:
    """(grain, step): the finest rollup grain whose rows over `span` seconds for `lines` series
    fit ROW_BUDGET (minute rows are kept two days), and the step that gives ≤ MAX_POINTS."""
    grain = DAY
    for candidate in (MINUTE, HOUR):
        if candidate == MINUTE and span > 2 * DAY:
            continue
        if span / candidate * max(1, lines) <= ROW_BUDGET:
            grain = candidate
            break
    step = next((s for s in _STEPS if s >= grain and span / s <= MAX_POINTS), _STEPS[-1])
    return grain, max(step, grain)


def load_series(
    store: Store,
    since: datetime,
    until: datetime,
    names: Sequence[str],
    regions: Sequence[str] | None = None,
) -> Series:
    """Chart points for `names`: one line per target, or per provider past MAX_LINES targets
    (merged in SQL, so the percentiles are the provider's, not an average of its models').

    The resolution follows the data, not only the range: the span charted starts where the data
    does (a 24 h range over ten minutes of history charts ten minutes), and when that span holds
    few probes (at most RAW_POINTS) every probe is its own point (`grain` and `step` 0)."""
    groups: dict[str, list[str]] | None = None
    if len(names) > MAX_LINES:
        grouped: dict[str, list[str]] = defaultdict(list)
        for name in names:
            grouped[name.partition("/")[0]].append(name)
        groups = dict(grouped)
    by = "provider" if groups else "target"
    first = min(rollups.first_seen(store, since, names, regions).values(), default=None)
    start = max(since, first) if first is not None else since
    lines: dict[str, list[Agg]] = defaultdict(list)
    few = RAW_POINTS + 1
    if dashboard_queries.count_between(store, start, until, names, few, regions) <= RAW_POINTS:
        owner = {m: g for g, members in (groups or {}).items() for m in members}
        for result in results.between(store, start, until, targets=list(names)):
            if regions is not None and result.region not in regions:
                continue
            lines[owner.get(result.target, result.target)].append(rollups.agg_of(result))
        return Series(0, 0, by, dict(lines))
    grain, step = choose_grain((until - start).total_seconds(), len(names))
    aligned = int(start.timestamp() // step * step)
    for agg in _points(store, grain, step, aligned, until, names, groups, regions):
        lines[agg.target].append(agg)
    return Series(grain, step, by, dict(lines))


@dataclass(slots=True)
class _Kept:
    """Settled points of one chart query: every bucket in `[lo, hi)`, oldest first."""

    lo: int
    hi: int
    points: list[Agg]


_kept: dict[tuple[object, ...], _Kept] = {}


def _points(
    store: Store,
    grain: int,
    step: int,
    aligned: int,
    until: datetime,
    names: Sequence[str],
    groups: dict[str, list[str]] | None,
    regions: Sequence[str] | None,
) -> list[Agg]:
    """`rollups.fetch` of the chart's buckets from `aligned` to `until`: the settled ones (ended
    `SETTLED` seconds before `until`) from `_kept` where read before, the rest read now."""

    def read(lo: int, hi: int | datetime) -> list[Agg]:
        end = hi if isinstance(hi, datetime) else datetime.fromtimestamp(hi, UTC)
        if end.timestamp() <= lo:
            return []
        return rollups.fetch(
            store,
            grain,
            datetime.fromtimestamp(lo, UTC),
            end,
            targets=names,
            step=step,
            groups=groups,
            columns=CHARTED,
            regions=regions,
        )

    settled = max(aligned, int((until.timestamp() - SETTLED) // step * step))
    key = (
        store.engine.url.render_as_string(),
        grain,
        step,
        tuple(names),
        tuple(sorted((g, tuple(m)) for g, m in (groups or {}).items())),
        tuple(regions or ()),
    )
    kept = _kept.get(key)
    if kept is None or kept.lo > aligned or kept.hi > settled:
        kept = _Kept(aligned, aligned, [])
    kept.points = [p for p in kept.points if p.bucket >= aligned] + read(kept.hi, settled)
    kept.lo, kept.hi = aligned, settled
    if key not in _kept and len(_kept) >= _KEPT_SERIES:
        _kept.clear()
    _kept[key] = kept
    return kept.points + read(settled, until)
