"""What the public surfaces show (`/public/status.json` and the incident feeds), built from the
read model under the status page's public-mode rules: statuses, reasons (as words), uptime,
timing figures, incidents and SLO compliance (objective, attainment, budget left); never burn
rates or alert state, answers, error texts, details, costs, prices, config or
which host leads. Every field is chosen here by name, so a field added to the private answers
does not reach the public ones by accident.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from monitor.api.views import figures_dict, uptimes
from monitor.config import Config
from monitor.detect.types import IncidentRecord, Status
from monitor.durations import format_duration
from monitor.read.now import plain_rule_window, status_now
from monitor.read.slo import slo_now
from monitor.result import format_ts
from monitor.store import Store, detection
from monitor.store.probe_stats import figures

# The figures of `monitor.api.views.figures_dict` a public answer may show (no cost, no outcome).
PUBLIC_FIGURES = (
    "probes",
    "success_ratio",
    "probe_availability",
    "ttft_p50_ms",
    "ttft_p95_ms",
    "latency_p50_ms",
    "latency_p95_ms",
    "tokens_per_s",
    "canary_pass_ratio",
    "last_probe_at",
)
UPTIME_WINDOWS = {"24h": timedelta(hours=24), "7d": timedelta(days=7), "30d": timedelta(days=30)}
FEED_LIMIT = 50  # incidents in a feed, newest first
# Incident GUIDs are UUIDs derived from the target and the start, so they stay the same across
# restarts, monitors sharing a database, and `brownout migrate` to another database.
GUID_NAMESPACE = uuid.UUID("1f0c4a3e-8d2b-5c7e-9a41-6b3d2e8f7c10")


def public_status(store: Store, config: Config, now: datetime) -> dict[str, Any]:
    """`GET /public/status.json`: the status now (`monitor.read.now.status_now`, the one answer
    every surface gives) with recent figures and uptime, under the public-mode rules."""
    current = status_now(store, config, now)
    names = list(current.targets)
    window = plain_rule_window(config)
    recent = figures(store, now - window, now)
    ups = {w: uptimes(store, names, now - span, now) for w, span in UPTIME_WINDOWS.items()}
    slos = slo_now(store, config, now, names)
    targets = []
    for name, item in current.targets.items():
        shown = figures_dict(recent.get(name))
        entry: dict[str, Any] = {
            "target": name,
            "provider": item.provider,
            "model": item.model,
            "status": item.status.value,
            "since": format_ts(item.since),
            "reasons": list(item.reasons),
        }
        if "regions" in item.details:
            entry["regions"] = [str(r) for r in item.details["regions"]]
            entry["regional"] = bool(item.details.get("regional"))
        entry["stale"] = item.stale
        entry["last_result"] = format_ts(item.last_result) if item.last_result else None
        entry["figures"] = {k: shown[k] for k in PUBLIC_FIGURES}
        entry["uptime"] = {w: _round(ups[w].get(name)) for w in UPTIME_WINDOWS}
        # An objective and its attainment are a promise to readers, like uptime; burn rates
        # and whether anyone is paged are the operators' (`ObjectiveNow.to_dict(public=True)`).
        entry["slos"] = [o.to_dict(public=True) for o in slos.get(name, [])]
        targets.append(entry)
    fleet = current.fleet
    return {
        "generated_at": format_ts(now),
        "status": fleet.status.value,
        "summary": fleet.summary,
        "intelligence_brownout": fleet.intelligence_brownout,
        "affected_providers": list(fleet.affected_providers),
        "counts": current.counts(),
        "monitor": {
            "reporting": current.monitor.reporting,
            "last_result": format_ts(current.monitor.last_result)
            if current.monitor.last_result
            else None,
        },
        "window": format_duration(window.total_seconds()),
        "providers": [
            {
                "provider": p.provider,
                "status": p.status,
                "since": format_ts(p.since) if p.since else None,
                "counts": dict(p.counts),
            }
            for p in current.providers.values()
        ],
        "targets": targets,
        "open_incidents": [public_incident(i, now) for i in detection.open_incidents(store, names)],
    }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 6)


def guid(incident: IncidentRecord) -> str:
    """The incident's stable id, `urn:uuid:…`, from its target and start."""
    key = f"{incident.target}\n{format_ts(incident.start)}"
    return f"urn:uuid:{uuid.uuid5(GUID_NAMESPACE, key)}"


def feed_id(base_url: str, provider: str | None) -> str:
    """A feed's stable id: a UUID from where it is served and which provider it follows."""
    key = "\n".join((base_url, "feed", provider or ""))
    return f"urn:uuid:{uuid.uuid5(GUID_NAMESPACE, key)}"


def public_incident(incident: IncidentRecord, now: datetime) -> dict[str, Any]:
    """An incident under the public rules: target, times, worst status and reasons (no peak
    figures: they are the detector's details)."""
    return {
        "id": guid(incident),
        "target": incident.target,
        "provider": incident.target.partition("/")[0],
        "start": format_ts(incident.start),
        "end": format_ts(incident.end) if incident.end else None,
        "worst": incident.worst.value,
        "reasons": list(incident.reasons),
        "duration_s": round(((incident.end or now) - incident.start).total_seconds(), 1),
    }


@dataclass(frozen=True, slots=True)
class FeedItem:
    """One incident in a feed: `updated` is its last change (a change of its status, or its
    end), so readers see an incident again when it escalates or ends."""

    incident: IncidentRecord
    updated: datetime

    @property
    def guid(self) -> str:
        return guid(self.incident)


def feed_items(
    store: Store, since: datetime, providers: Sequence[str] | None = None
) -> list[FeedItem]:
    """The newest `FEED_LIMIT` incidents overlapping `since`..now (of `providers`, default all),
    newest first, each with the time of its last change."""
    chosen = [
        i
        for i in detection.incidents_between(store, since)
        if providers is None or i.target.partition("/")[0] in providers
    ]
    chosen = sorted(chosen, key=lambda i: (i.start, i.target), reverse=True)[:FEED_LIMIT]
    if not chosen:
        return []
    oldest = min(i.start for i in chosen)
    changes: dict[str, list[datetime]] = {}
    for t in detection.transitions_between(
        store, oldest, targets=sorted({i.target for i in chosen})
    ):
        if t.new is not Status.UNKNOWN:  # staleness changes no incident
            changes.setdefault(t.target, []).append(t.ts)
    items = []
    for i in chosen:
        inside = [ts for ts in changes.get(i.target, []) if i.start <= ts <= (i.end or ts)]
        updated = max([i.start, *inside, *([i.end] if i.end else [])])
        items.append(FeedItem(i, updated))
    return items
