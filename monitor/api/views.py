"""The JSON the API answers with, built from store reads (no HTTP here)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from monitor.config import Config
from monitor.durations import format_duration
from monitor.figures import Figures
from monitor.read.leadtime import lead_times
from monitor.read.now import covered, plain_rule_window, status_now
from monitor.read.slo import slo_now
from monitor.result import format_ts
from monitor.statuspages.grade import MIN_DURATION, grade_pages
from monitor.store import Store, detection, rollups
from monitor.store import statuspages as official
from monitor.store.probe_stats import figures, history, percentile

BASELINE = timedelta(hours=24)


def _round(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(value, digits)


def figures_dict(f: Figures | None) -> dict[str, Any]:
    """A window's figures (`monitor.figures.Figures`, whether read from raw results or rollups);
    every ratio and time is null without data. `success_ratio` is the answered ratio;
    `probe_availability` the probe-share availability."""
    f = f or Figures()
    return {
        "probes": f.counted,
        "outcomes": dict(sorted(f.outcomes.items())),
        "success_ratio": _round(f.answered_ratio),
        "probe_availability": _round(f.probe_availability),
        "rate_limited_ratio": _round(f.rate_limited_ratio),
        "ttft_p50_ms": _round(f.ttft_ms.quantile(0.5), 1),
        "ttft_p95_ms": _round(f.ttft_ms.quantile(0.95), 1),
        "latency_p50_ms": _round(f.latency_ms.quantile(0.5), 1),
        "latency_p95_ms": _round(f.latency_ms.quantile(0.95), 1),
        "tokens_per_s": _round(f.tokens_per_s_mean, 2),
        "canary_pass_ratio": _round(f.pass_ratio),
        "cost_usd": round(f.cost_usd, 8),
        "last_probe_at": format_ts(f.last_ts) if f.last_ts else None,
        "last_outcome": f.last_outcome,
    }


def baseline(
    store: Store, since: datetime, until: datetime, targets: Sequence[str]
) -> dict[str, dict[str, Any]]:
    """Per target, its figures over the day before the recent window, from the rollups (a day
    of raw results is too much to read per request). `coverage_s`: the seconds of that window
    with data when fewer than all of it (null when it is covered, 0 without data), as every
    figure over a window longer than its data says."""
    aggs = rollups.summary(store, since, until, targets=list(targets))
    span = (until - since).total_seconds()
    first = rollups.first_seen(store, since, list(targets))
    out: dict[str, dict[str, Any]] = {}
    for target in targets:
        agg = aggs.get(target)
        if agg is None or agg.n == 0:
            out[target] = {
                "probes": 0,
                "coverage_s": 0.0,
                "probe_availability": None,
                "ttft_p50_ms": None,
                "latency_p50_ms": None,
                "tokens_per_s": None,
                "canary_pass_ratio": None,
            }
            continue
        f = agg.figures()
        seen = covered(first.get(target), until, span)
        out[target] = {
            "probes": f.counted,
            "coverage_s": None if seen is None else round(seen, 1),
            "probe_availability": _round(f.probe_availability),
            "ttft_p50_ms": _round(f.ttft_ms.quantile(0.5), 1),
            "latency_p50_ms": _round(f.latency_ms.quantile(0.5), 1),
            "tokens_per_s": _round(f.tokens_per_s_mean, 2),
            "canary_pass_ratio": _round(f.pass_ratio),
        }
    return out


def status_view(
    store: Store, config: Config, now: datetime, region: str | None = None
) -> dict[str, Any]:
    """`GET /api/status`: the read model's status now (`monitor.read.now`), with each target's
    figures over the recent window and the day before it, and its SLOs now
    (`monitor.read.slo.slo_now`).

    With `region` (`?region=eu-west`), each target's `figures` are that region's probes only and
    `region_status` is the status that region sees (its own detection, `monitor.detect.regions`;
    for a target probed from one region, the target's status when that region probed it
    recently, else null); the target's `status` stays the combined one."""
    current = status_now(store, config, now)
    window = plain_rule_window(config)
    names = list(current.targets)
    recent = figures(store, now - window, now, region=region)
    base = baseline(store, now - window - BASELINE, now - window, names)
    slos = slo_now(store, config, now, names)
    targets = []
    for name, item in current.targets.items():
        entry = item.to_dict()
        entry["figures"] = figures_dict(recent.get(name))
        entry["baseline"] = base[name]
        entry["slos"] = [o.to_dict() for o in slos.get(name, [])]
        if region is not None:
            entry["region"] = region
            entry["region_status"] = item.region_status(region, name in recent)
        targets.append(entry)
    opened = detection.open_incidents(store)
    return {
        "generated_at": format_ts(now),
        **({"region": region} if region is not None else {}),
        "source": current.source,
        "status": current.fleet.status.value,
        "monitor": current.monitor.to_dict(),
        "fleet": current.fleet.to_dict(),
        "providers": [p.to_dict() for p in current.providers.values()],
        "window": format_duration(window.total_seconds()),
        "baseline_window": format_duration(BASELINE.total_seconds()),
        "targets": targets,
        "open_incidents": [i.to_dict() for i in opened],
        "official": [c.to_dict() for c in official.components(store)],
    }


def incidents_view(
    store: Store,
    config: Config,
    since: datetime,
    until: datetime | None,
    targets: Sequence[str] | None,
) -> dict[str, Any]:
    """`GET /api/incidents`: ours, each beside the provider's post if any (lead time), and the
    provider's posts in the window."""
    found = lead_times(store, config, since, until, targets)
    out = []
    for incident, lead in found.incidents:
        entry = incident.to_dict()
        entry["lead_time"] = lead.to_dict() if lead is not None else None
        out.append(entry)
    leads = [e["lead_time"] for e in out if e["lead_time"] is not None]
    posted_leads = sorted(lt["lead_s"] for lt in leads if lt["lead_s"] is not None)
    return {
        "since": format_ts(since),
        "until": format_ts(until) if until else None,
        "lead_time": {
            "compared": len(leads),
            "posted": len(posted_leads),
            "never_posted": len(leads) - len(posted_leads),
            "median_lead_s": percentile(posted_leads, 0.5),
        },
        "incidents": out,
        "official": [p.to_dict() for p in found.posted],
    }


def official_view(store: Store, config: Config, since: datetime, until: datetime) -> dict[str, Any]:
    """`GET /api/official`: per provider with a status page, how well that page told of what
    brownout saw in the range (`monitor.statuspages.grade`), and the components as last polled."""
    ours = detection.incidents_between(store, since, until)
    widen = timedelta(seconds=config.statuspages.match_window)
    posted = official.incidents_between(store, since - widen, until + widen)
    grades = grade_pages(ours, posted, config.statuspages.pages_by_provider(), widen, until)
    return {
        "since": format_ts(since),
        "until": format_ts(until),
        "min_duration": format_duration(MIN_DURATION.total_seconds()),
        "grades": [g.to_dict() for g in grades],
        "components": [c.to_dict() for c in official.components(store)],
    }


def history_view(
    store: Store, target: str, since: datetime, until: datetime, step: timedelta
) -> dict[str, Any]:
    """`GET /api/targets/{provider}/{model}/history`: from the rollups when the step is whole
    minutes (cheap at any range; percentiles within one histogram bin, 25 %), else from the raw
    results (exact)."""
    points = _history_from_rollups(store, target, since, until, step)
    if points is None:
        points = []
        for start, f in history(store, target, since, until, step):
            point = figures_dict(f)
            point.pop("last_outcome")
            point.pop("last_probe_at")
            points.append({"ts": format_ts(start), **point})
    return {
        "target": target,
        "since": format_ts(since),
        "until": format_ts(until),
        "step": format_duration(step.total_seconds()),
        "points": points,
    }


def _history_from_rollups(
    store: Store, target: str, since: datetime, until: datetime, step: timedelta
) -> list[dict[str, Any]] | None:
    seconds = int(step.total_seconds())
    if seconds % 60 or seconds != step.total_seconds():
        return None
    grain = next(g for g in (rollups.DAY, rollups.HOUR, rollups.MINUTE) if seconds % g == 0)
    aggs = rollups.fetch(store, grain, since, until, targets=[target], step=seconds)
    by_start = {agg.bucket: agg for agg in aggs}
    first = int(since.timestamp())
    count = -(-int((until - since).total_seconds()) // seconds)
    points = []
    for i in range(count):
        start = first + i * seconds
        agg = by_start.get(start)
        points.append({"ts": format_ts(datetime.fromtimestamp(start, UTC)), **_agg_figures(agg)})
    return points


def _agg_figures(agg: rollups.Agg | None) -> dict[str, Any]:
    point = figures_dict(agg.figures() if agg is not None else None)
    del point["last_probe_at"], point["last_outcome"]
    return point


def coverage(store: Store, target: str, now: datetime, window: float) -> float | None:
    """Seconds of the window before `now` with data for `target` when fewer than the window
    (`monitor.read.now.covered`, to the hour), else None."""
    first = rollups.first_seen(store, now - timedelta(seconds=window), [target]).get(target)
    return covered(first, now, window)


def uptime(store: Store, target: str, since: datetime, until: datetime) -> float | None:
    """Availability of `target` over the window (to the minute, from the rollups):
    1 − provider failures / counted probes; rate limits are not outages. None without data."""
    return uptimes(store, [target], since, until).get(target)


def uptimes(
    store: Store, targets: Sequence[str], since: datetime, until: datetime
) -> dict[str, float | None]:
    """`uptime` of each of `targets` over one window, in one read of the rollups."""
    aggs = rollups.summary(store, since, until, targets=list(targets), columns=rollups.UPTIME)
    return {t: agg.uptime if (agg := aggs.get(t)) is not None else None for t in targets}
