"""`build_report(store, config, since, until, targets)`: the historical report as data.

The CLI, the dashboard's download buttons and the scheduled report all call this, then
`monitor.reports.render`. It reads the store only through `monitor.reports.source`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta

from monitor.config import Config
from monitor.detect.types import IncidentRecord
from monitor.errors import UsageError
from monitor.figures import Figures
from monitor.reports import maintenance
from monitor.reports.model import (
    DEFINITIONS,
    DayRow,
    OfficialGrade,
    Report,
    ReportIncident,
    ReportRow,
    Scope,
)
from monitor.reports.source import ProbeSource, paused_gc, probe_source
from monitor.reports.stats import wilson
from monitor.reports.statuses import (
    DetectionStore,
    StatusSource,
    incident_seconds,
    status_history,
)
from monitor.reports.timeline import Segment, StatusTime, status_time, stretches
from monitor.result import utcnow
from monitor.sketch import Sketch
from monitor.slo import compliance, objectives
from monitor.statuspages.grade import grade_pages
from monitor.store import Store, results
from monitor.store import statuspages as official
from monitor.target import matches


def matching_names(candidates: Iterable[str], patterns: Sequence[str] | None) -> list[str]:
    """The `candidates` that match `patterns` (a name, a provider, or a shell pattern such as
    `openai/*`); all of them without patterns.

    Raises UsageError when patterns are given and match nothing.
    """
    known = sorted(set(candidates))
    if not patterns:
        return known
    chosen = [t for t in known if any(matches(p, t) for p in patterns)]
    if not chosen:
        raise UsageError(
            f"no target matches {', '.join(patterns)}; known: {', '.join(known) or 'none'}"
        )
    return chosen


def build_report(
    store: Store,
    config: Config,
    since: datetime,
    until: datetime,
    targets: Sequence[str] | None = None,
    *,
    source: ProbeSource | None = None,
    statuses: StatusSource | None = None,
    now: datetime | None = None,
    regions: Sequence[str] | None = None,
) -> Report:
    """The report over `[since, until)` for `targets` (patterns, see `matching_names`).

    With `regions`, every probe figure is of those regions' probes only; the status history
    (time-weighted availability, incidents) stays the targets' own, combined over regions.
    `source` and `statuses` default to the store's (rollups or raw results; the detection store).
    """
    with paused_gc():  # see `paused_gc`
        return _build_report(
            store,
            config,
            since,
            until,
            targets,
            source=source,
            statuses=statuses,
            now=now,
            regions=regions,
        )


def _build_report(
    store: Store,
    config: Config,
    since: datetime,
    until: datetime,
    targets: Sequence[str] | None,
    *,
    source: ProbeSource | None,
    statuses: StatusSource | None,
    now: datetime | None,
    regions: Sequence[str] | None,
) -> Report:
    since, until = since.astimezone(UTC), until.astimezone(UTC)
    source = source or probe_source(store)
    # Every target's aggregates, then the selection: rollups outlive raw results, so a target
    # gone from the config and from the raw table is still found here.
    chosen_regions = list(regions) if regions else None
    daily, found_regions = source.daily_and_by_region(since, until, None, chosen_regions)
    names = matching_names(
        {t.name for t in config.targets()}
        | set(results.known_targets(store))
        | {t for t, _ in daily},
        targets,
    )
    chosen = set(names)
    daily = {key: agg for key, agg in daily.items() if key[0] in chosen}
    statuses = statuses or DetectionStore(store)
    history = status_history(statuses, since, until, names)
    notes: list[str] = []
    if history is None:
        notes.append("No status history is stored yet, so time-weighted availability is not shown.")
        history = {}
    incidents = statuses.incidents(since, until, names)
    if incidents is None:
        incidents = _derived_incidents(history, until)
    windows = {t: maintenance.windows_for(config, t, since, until) for t in names}

    days_of: dict[str, list[Figures]] = defaultdict(list)
    for (target, _day), agg in daily.items():
        days_of[target].append(agg)
    per_target: dict[str, Figures] = defaultdict(Figures)
    for target, days in days_of.items():
        per_target[target] = Figures.total(days)
    times = {t: status_time(history.get(t, []), windows[t]) for t in names}
    shown = [
        t
        for t in names
        if per_target[t].probes or times[t].known or any(i.target == t for i in incidents)
    ]

    span_s = (until - since).total_seconds()
    target_rows = [
        _figures("target", t, [t], per_target, times, incidents, until, span_s) for t in shown
    ]
    by_provider: dict[str, list[str]] = defaultdict(list)
    for t in shown:
        by_provider[t.partition("/")[0]].append(t)
    provider_rows = [
        _figures("provider", p, ts, per_target, times, incidents, until, span_s)
        for p, ts in sorted(by_provider.items())
    ]
    fleet = _figures("fleet", "fleet", shown, per_target, times, incidents, until, span_s)
    # One region: the target rows say it all. Not made at all when fewer than two regions have
    # figures (200 targets' rows are 1,400 quantiles), else made, then kept only when they show
    # two regions or more.
    several = chosen_regions or len({region for _, region in found_regions}) > 1
    region_rows = _region_rows(found_regions, shown) if several else []
    if not chosen_regions and len({r.region for r in region_rows}) < 2:
        region_rows = []

    described = maintenance.describe(config, since, until)
    if described:
        notes.append(
            "Maintenance windows are excluded from availability: " + "; ".join(described) + "."
        )
    if not shown:
        notes.append("No probe results or status history in this range.")
    if chosen_regions:
        notes.append(
            f"Probe figures are from {', '.join(chosen_regions)} only; time-weighted "
            "availability and incidents are each target's status over every region (the quorum)."
        )
    definitions = dict(DEFINITIONS)
    if not config.statuspages.pages:
        definitions.pop("official")
    definitions["latency"] = definitions["latency"].rstrip(".") + ", " + source.precision + "."
    return Report(
        since=since,
        until=until,
        generated_at=now or utcnow(),
        source=source.description,
        fleet=fleet,
        providers=provider_rows,
        targets=target_rows,
        regions=region_rows,
        incidents=[_incident_row(i, until) for i in incidents if i.target in shown],
        days=_days(daily, history, windows, shown, since, until),
        maintenance=described,
        official=_official(store, config, incidents, chosen, since, until),
        slos=[
            compliance(t, per_target[t], objective)
            for t in shown
            for objective in objectives(config.slo_for(t))
        ],
        notes=notes,
        selected=list(targets or []),
        selected_regions=list(chosen_regions or []),
        definitions=definitions,
    )


def _figures(
    scope: Scope,
    name: str,
    members: Sequence[str],
    per_target: dict[str, Figures],
    times: dict[str, StatusTime],
    incidents: Sequence[IncidentRecord],
    until: datetime,
    span_s: float = 0.0,
) -> ReportRow:
    """One row; `coverage_s` and `range_s` add up over the members (a provider of three targets
    over 30 d has 90 d of range)."""
    agg, time = Figures(), StatusTime()
    for t in members:
        agg.merge(per_target[t])
        time.merge(times[t])
    mine = [i for i in incidents if i.target in members]
    closed = [incident_seconds(i, until) for i in mine if i.end is not None and i.end <= until]
    ci = wilson(agg.quality_passed, agg.quality_checked)
    return ReportRow(
        scope=scope,
        name=name,
        targets=len(members),
        probes=agg.probes,
        time_availability=time.availability,
        coverage_s=time.known,
        range_s=span_s * len(members),
        success_rate=agg.success_rate,
        operational_s=time.operational,
        degraded_s=time.degraded,
        down_s=time.down,
        unknown_s=time.unknown,
        maintenance_s=time.maintenance,
        incidents=len(mine),
        mttr_s=sum(closed) / len(closed) if closed else None,
        longest_incident_s=max((incident_seconds(i, until) for i in mine), default=None),
        ttft_p50_ms=agg.ttft_ms.quantile(0.50),
        ttft_p95_ms=agg.ttft_ms.quantile(0.95),
        ttft_p99_ms=agg.ttft_ms.quantile(0.99),
        latency_p50_ms=agg.latency_ms.quantile(0.50),
        latency_p95_ms=agg.latency_ms.quantile(0.95),
        latency_p99_ms=agg.latency_ms.quantile(0.99),
        tokens_per_s_p50=agg.tokens_per_s.quantile(0.50),
        tokens_per_s_mean=agg.tokens_per_s_mean,
        canary_checked=agg.quality_checked,
        canary_pass_rate=agg.quality_passed / agg.quality_checked if agg.quality_checked else None,
        canary_ci_low=ci[0] if ci else None,
        canary_ci_high=ci[1] if ci else None,
        rate_limited_share=agg.rate_limited_share,
        cost_usd=agg.cost_usd,
        probe_availability=agg.probe_availability,
    )


def _official(
    store: Store,
    config: Config,
    incidents: Sequence[IncidentRecord],
    chosen: set[str],
    since: datetime,
    until: datetime,
) -> list[OfficialGrade]:
    """The grade of each configured status page over the range, from the chosen targets'
    incidents (`monitor.statuspages.grade`); none without pages."""
    if not config.statuspages.pages:
        return []
    widen = timedelta(seconds=config.statuspages.match_window)
    posted = official.incidents_between(store, since - widen, until + widen)
    mine = [i for i in incidents if i.target in chosen]
    return [
        OfficialGrade(
            g.provider,
            tuple(g.pages),
            g.events,
            g.posted,
            g.never_posted,
            g.posted_first,
            g.median_lead_s,
            g.grade,
        )
        for g in grade_pages(mine, posted, config.statuspages.pages_by_provider(), widen, until)
    ]


def _region_rows(found: dict[tuple[str, str], Figures], shown: Sequence[str]) -> list[ReportRow]:
    """One `region` row per target and region that has probes, in the targets' order."""
    order = {t: i for i, t in enumerate(shown)}
    rows = []
    for (target, region), agg in sorted(
        found.items(), key=lambda kv: (order.get(kv[0][0], 0), kv[0][1])
    ):
        if target not in order or not agg.probes:
            continue
        rows.append(
            ReportRow(
                scope="region",
                name=target,
                region=region,
                probes=agg.probes,
                success_rate=agg.success_rate,
                probe_availability=agg.probe_availability,
                ttft_p50_ms=agg.ttft_ms.quantile(0.50),
                ttft_p95_ms=agg.ttft_ms.quantile(0.95),
                ttft_p99_ms=agg.ttft_ms.quantile(0.99),
                latency_p50_ms=agg.latency_ms.quantile(0.50),
                latency_p95_ms=agg.latency_ms.quantile(0.95),
                latency_p99_ms=agg.latency_ms.quantile(0.99),
                tokens_per_s_p50=agg.tokens_per_s.quantile(0.50),
                tokens_per_s_mean=agg.tokens_per_s_mean,
                canary_checked=agg.quality_checked,
                canary_pass_rate=agg.pass_ratio,
                rate_limited_share=agg.rate_limited_share,
                cost_usd=agg.cost_usd,
            )
        )
    return rows


def _derived_incidents(history: dict[str, list[Segment]], until: datetime) -> list[IncidentRecord]:
    """Incidents as runs of degraded/down in the status history (when none are stored)."""
    out = []
    for target, parts in history.items():
        last = parts[-1] if parts else None
        for start, end, worst, reasons in stretches(parts):
            still_open = (
                end == until and last is not None and last.end == until and last.status is worst
            )
            out.append(
                IncidentRecord(target, start, worst, None if still_open else end, list(reasons))
            )
    return sorted(out, key=lambda i: (i.start, i.target))


def _incident_row(incident: IncidentRecord, until: datetime) -> ReportIncident:
    return ReportIncident(
        target=incident.target,
        start=incident.start,
        end=incident.end,
        duration_s=incident_seconds(incident, until),
        worst=incident.worst.value,
        reasons=tuple(incident.reasons),
    )


def _days(
    daily: dict[tuple[str, date], Figures],
    history: dict[str, list[Segment]],
    windows: dict[str, list[tuple[datetime, datetime]]],
    shown: Sequence[str],
    since: datetime,
    until: datetime,
) -> list[DayRow]:
    """One row per shown target and UTC day; the days' quantiles asked all at once
    (`Sketch.quantiles`: 200 targets × 90 days are 36,000 of them)."""
    keys: list[tuple[str, date]] = []
    availability: list[float | None] = []
    figures: list[Figures] = []
    empty = Figures()  # only read: one for every day without probes
    day = since.date()
    while datetime(day.year, day.month, day.day, tzinfo=UTC) < until:
        lo = max(since, datetime(day.year, day.month, day.day, tzinfo=UTC))
        hi = min(until, lo.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1))
        for t in shown:
            parts = [
                Segment(max(s.start, lo), min(s.end, hi), s.status, s.reasons)
                for s in history.get(t, [])
                if s.end > lo and s.start < hi
            ]
            keys.append((t, day))
            availability.append(status_time(parts, windows[t]).availability)
            figures.append(daily.get((t, day), empty))
        day += timedelta(days=1)
    latency_p95 = Sketch.quantiles([f.latency_ms for f in figures], 0.95)
    ttft_p50 = Sketch.quantiles([f.ttft_ms for f in figures], 0.50)
    return [
        DayRow(
            target=t,
            day=day,
            time_availability=available,
            success_rate=agg.success_rate,
            latency_p95_ms=latency,
            ttft_p50_ms=ttft,
        )
        for (t, day), available, agg, latency, ttft in zip(
            keys, availability, figures, latency_p95, ttft_p50, strict=True
        )
    ]
