"""Everything the status page shows, read from the store in one place: `load(...) -> Page`.

Pure reading: the status now (`monitor.read.now`), uptime from hour and day rollups, the 90-day
daily bars (`bars.py`), chart series (`series.py`), incidents, the transfer switch's ranking and
the newest probes. Rendering lives in `app.py`, `sections.py` and `charts.py`; this module has
no Streamlit in it, so tests and the benchmark call it directly. Each part's time is in
`Page.timings` (seconds).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from dashboard.banner import Banner, banner
from dashboard.bars import BAR_DAYS, DayCell, Incident, daily
from dashboard.series import Series, load_series
from monitor.config import Config
from monitor.detect.types import Status, TargetStatus
from monitor.errors import BrownoutError
from monitor.read.now import StatusNow, covered, plain_rule_window, status_now, target_names
from monitor.read.slo import ObjectiveNow, slo_now
from monitor.result import ProbeResult
from monitor.route import family_members, route
from monitor.secrets import Scrubber
from monitor.store import Store, dashboard_queries, detection, lease, rollups
from monitor.store.rollups import DAY, HOUR

RANGES: dict[str, int] = {
    "1h": HOUR,
    "6h": 6 * HOUR,
    "24h": DAY,
    "7d": 7 * DAY,
    "30d": 30 * DAY,
    "90d": 90 * DAY,
}
UPTIME_WINDOWS = {"24h": DAY, "7d": 7 * DAY, "30d": 30 * DAY, "90d": 90 * DAY}
ROUTE_TTL = 30.0  # seconds a transfer switch answer is reused
_route_cache: dict[
    tuple[str, tuple[str | None, ...]], tuple[datetime, list[tuple[str | None, Any]]]
] = {}
_T = TypeVar("_T")


@dataclass(slots=True)
class TargetRow:
    target: str
    status: TargetStatus
    uptime: dict[str, float | None]  # window -> probe-share availability (not time-weighted)
    # window -> seconds of it with data, when less than the window ("3 d of 30 d"); else None
    coverage: dict[str, float | None] = field(default_factory=dict)


@dataclass(slots=True)
class RegionRow:
    """One target as one region sees it: the status that region's detection gives
    (`TargetNow.region_status`, the quorum's input) and its probes' figures over the range."""

    target: str
    region: str
    status: str | None  # a status word; None when that region has not probed it lately
    probes: int
    error_rate: float | None  # provider failures over counted probes
    ttft_p50_ms: float | None
    ttft_p95_ms: float | None


@dataclass(slots=True)
class Page:
    now: datetime
    since: datetime
    public: bool
    banner: Banner
    current: StatusNow  # the status now of every target (not only those shown)
    summary: str  # counts by status and the targets in trouble, in words (the page's top line)
    targets: list[TargetRow]
    days: list[DayCell]
    series: Series
    incidents: list[Incident]
    route: list[tuple[str | None, Any]]  # (family, monitor.route.Answer)
    recent: list[ProbeResult] | None  # None in public mode
    notes: list[str] = field(default_factory=list)
    regions: list[str] = field(default_factory=list)  # every region with data (the filter's)
    chosen_regions: list[str] | None = None  # the figures are these regions' only; None: all
    # per target, each region's status and figures; empty when only one region has data
    by_region: dict[str, list[RegionRow]] = field(default_factory=dict)
    # per shown target with an SLO, its objectives now (`monitor.read.slo.slo_now`, the API's)
    slos: dict[str, list[ObjectiveNow]] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)


def select(
    names: Sequence[str], providers: Sequence[str] | None, models: Sequence[str] | None
) -> list[str]:
    """The targets among `names` of `providers` and `models` (empty or None: all)."""
    return [
        n
        for n in names
        if (not providers or n.partition("/")[0] in providers)
        and (not models or n.partition("/")[2] in models)
    ]


def load(
    store: Store,
    config: Config,
    now: datetime,
    *,
    range_key: str = "24h",
    providers: Sequence[str] | None = None,
    models: Sequence[str] | None = None,
    public: bool = False,
    recent_limit: int = 100,
    regions: Sequence[str] | None = None,
) -> Page:
    """The page's data at `now` for the time range `range_key` (see RANGES), filtered to
    `providers` / `models` (None: all). With `regions`, uptime, bars, charts and the newest
    probes are those regions' probes only; statuses stay each target's combined one. In
    `public` mode the newest probes (answers, errors) are not read at all."""
    timings: dict[str, float] = {}

    def timed(name: str, fn: Callable[[], _T]) -> _T:
        started = time.perf_counter()
        value = fn()
        timings[name] = time.perf_counter() - started
        return value

    names = timed("targets", lambda: target_names(store, config, now))
    shown = select(names, providers, models)
    since = now - timedelta(seconds=RANGES[range_key])
    current = timed("statuses", lambda: status_now(store, config, now, names))
    statuses = current.statuses()
    notes: list[str] = []
    chosen = list(regions) if regions else None
    incidents = timed("incidents", lambda: load_incidents(store, now, shown))
    uptime = timed("uptime", lambda: uptimes(store, now, shown, chosen))
    days = timed("days", lambda: daily(store, now, shown, incidents, chosen))
    series = timed("series", lambda: load_series(store, since, now, shown, chosen))
    known_regions = timed(
        "regions", lambda: rollups.regions_since(store, now - timedelta(days=BAR_DAYS))
    )
    by_region: dict[str, list[RegionRow]] = {}
    if len(known_regions) > 1:
        by_region = timed(
            "by_region", lambda: region_rows(store, config, current, since, now, shown, chosen)
        )
    summary = status_summary(current, shown)
    slos = timed("slos", lambda: slo_now(store, config, now, shown))
    route = timed("route", lambda: ranking(store, config, now, names, current))
    recent = None
    if not public:
        recent = timed("recent", lambda: recent_probes(store, config, shown, recent_limit, chosen))
    held = current.monitor.leader  # read once, with the statuses
    if held is not None:
        notes.append(leader_note(held, public=public))
    first = timed(
        "coverage",
        lambda: rollups.first_seen(store, now - timedelta(days=BAR_DAYS), regions=chosen),
    )
    rows = [
        TargetRow(
            n,
            statuses[n],
            {w: uptime[w].get(n) for w in UPTIME_WINDOWS},
            {w: covered(first.get(n), now, seconds) for w, seconds in UPTIME_WINDOWS.items()},
        )
        for n in shown
    ]
    return Page(
        now=now,
        since=since,
        public=public,
        banner=banner(statuses, now, current.monitor, config.detection.fleet.providers),
        current=current,
        summary=summary,
        targets=rows,
        days=days,
        series=series,
        incidents=incidents,
        route=route,
        recent=recent,
        notes=notes,
        timings=timings,
        regions=known_regions,
        chosen_regions=chosen,
        by_region=by_region,
        slos=slos,
    )


def leader_note(held: lease.LeaseInfo, *, public: bool) -> str:
    """Which monitor runs detection and alerts (monitor.pipeline.leader); the public view names only
    its region."""
    if not held.live:
        return "No monitor leads right now: statuses are not being updated."
    who = f"the monitor in {held.region}" if public else f"{held.holder} ({held.region})"
    return f"Detection and alerts run in {who}."


def status_summary(current: StatusNow, names: Sequence[str]) -> str:
    """`5 targets: 2 operational, 2 degraded, 1 down. Down: a/x (errors). Degraded: b/y
    (latency), c/z (quality).` over `names`, plus a word when the monitor is not reporting."""
    shown = [current.targets[n] for n in names if n in current.targets]
    if not shown:
        return "No targets."
    counts = {s: sum(t.status is s for t in shown) for s in Status}
    order = (Status.OPERATIONAL, Status.DEGRADED, Status.DOWN, Status.UNKNOWN)
    parts = [f"{counts[s]} {s.value}" for s in order if counts[s]]
    text = f"{len(shown)} target{'s' if len(shown) != 1 else ''}: {', '.join(parts)}."
    for status in (Status.DOWN, Status.DEGRADED):
        named = [
            f"{t.target} ({', '.join(t.reasons)}{where_words(t.details)})"
            if t.reasons
            else t.target
            for t in shown
            if t.status is status
        ]
        if named:
            text += f" {status.value.capitalize()}: {', '.join(named)}."
    if not current.monitor.reporting:
        text += " The monitor is not reporting: these are the last known statuses."
    return text


def where_words(details: dict[str, Any]) -> str:
    """ "; only in eu-west" for a target in trouble in fewer regions than the quorum, "; in …"
    for one probed from several regions and in trouble in a quorum of them; "" otherwise."""
    regions = details.get("regions") or []
    if not regions:
        return ""
    return f"{'; only in' if details.get('regional') else '; in'} {', '.join(regions)}"


def uptimes(
    store: Store, now: datetime, names: Sequence[str], regions: Sequence[str] | None = None
) -> dict[str, dict[str, float | None]]:
    """window -> target -> uptime, from hour and day rollups (windows widened to whole hours:
    a 90-day figure does not need minutes, and no minute rows are read); of `regions` only."""
    out: dict[str, dict[str, float | None]] = {}
    for window, seconds in UPTIME_WINDOWS.items():
        since = now - timedelta(seconds=seconds)
        got = rollups.summary(
            store, since, now, targets=names, columns=rollups.UPTIME, finest=HOUR, regions=regions
        )
        out[window] = {n: agg.uptime for n, agg in got.items()}
    return out


REGION_FIGURES = [*rollups.UPTIME, "ttft_min", "ttft_max", "ttft_hist"]


def region_rows(
    store: Store,
    config: Config,
    current: StatusNow,
    since: datetime,
    now: datetime,
    names: Sequence[str],
    regions: Sequence[str] | None = None,
) -> dict[str, list[RegionRow]]:
    """Per target of `names`, one row per region that probed it in `[since, now)` (of `regions`
    only): the status that region sees (`TargetNow.region_status`) and its TTFT p50/p95 and error
    rate from the rollups, each region's kept apart (`rollups.summary_by_region`)."""
    got = rollups.summary_by_region(
        store, since, now, targets=names, columns=REGION_FIGURES, regions=regions
    )
    recent = now - plain_rule_window(config)
    fresh = {
        key
        for key, agg in rollups.summary_by_region(
            store, recent, now, targets=names, columns=["n"], regions=regions
        ).items()
        if agg.n
    }
    out: dict[str, list[RegionRow]] = {}
    for (target, region), agg in sorted(got.items()):
        item = current.targets.get(target)
        out.setdefault(target, []).append(
            RegionRow(
                target=target,
                region=region,
                status=item.region_status(region, (target, region) in fresh) if item else None,
                probes=agg.n - agg.count("cancelled"),
                error_rate=agg.error_rate,
                ttft_p50_ms=agg.percentile("ttft", 0.5),
                ttft_p95_ms=agg.percentile("ttft", 0.95),
            )
        )
    return out


def load_incidents(store: Store, now: datetime, names: Sequence[str]) -> list[Incident]:
    """Incidents overlapping the last BAR_DAYS days, open ones first then newest first."""
    found = detection.incidents_between(store, now - timedelta(days=BAR_DAYS), None, list(names))
    out = [
        Incident(
            target=item.target,
            start=_utc(item.start),
            end=_utc(item.end) if item.end is not None else None,
            worst=Status(item.worst),
            reasons=[str(r) for r in item.reasons],
        )
        for item in found
    ]
    out.sort(key=lambda i: (not i.open, -i.start.timestamp()))
    return out


def ranking(
    store: Store,
    config: Config,
    now: datetime,
    names: Sequence[str] | None = None,
    current: StatusNow | None = None,
) -> list[tuple[str | None, Any]]:
    """The transfer switch (`monitor.route.route`, as `brownout route` gives it): one answer per
    configured family, or one over every target. `names` and `current`: the known targets and
    their statuses at `now`, when read already (the page has them; the switch reads them again
    otherwise)."""
    families: list[str | None] = list(config.families) or [None]
    # The switch reads the last 15 minutes of raw results; its answer is kept ROUTE_TTL seconds
    # (a page refresh), so every viewer's refresh does not read them again.
    key = (store.engine.url.render_as_string(), tuple(families))
    kept = _route_cache.get(key)
    if kept is not None and 0 <= (now - kept[0]).total_seconds() < ROUTE_TTL:
        return kept[1]
    answers = []
    for family in families:
        try:
            members = None if names is None else family_members(config, family, names)
            answers.append(
                (
                    family,
                    route(store, config, family=family, now=now, members=members, view=current),
                )
            )
        except BrownoutError:  # a family naming no known target: leave it out, show the rest
            continue
    _route_cache[key] = (now, answers)
    return answers


def recent_probes(
    store: Store,
    config: Config,
    names: Sequence[str],
    limit: int,
    regions: Sequence[str] | None = None,
) -> list[ProbeResult]:
    """The newest probes of `names` (from `regions` only, if given), their answers and errors
    scrubbed once more on the way out."""
    scrub = Scrubber(config.secrets()).scrub
    found = dashboard_queries.recent(store, limit, targets=names, regions=regions)
    for result in found:
        result.answer = scrub(result.answer)
        result.error = scrub(result.error)
    return found


def _utc(ts: Any) -> datetime:
    if isinstance(ts, str):
        from monitor.result import parse_ts

        return parse_ts(ts)
    value: datetime = ts
    return value if value.tzinfo else value.replace(tzinfo=UTC)
