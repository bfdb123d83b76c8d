"""Instatus pages: `https://PAGE/summary.json` gives the page's overall state (UP, HASISSUES,
UNDERMAINTENANCE) and its `activeIncidents` (name, started, status INVESTIGATING … RESOLVED,
impact); `https://PAGE/v2/components.json` lists the components with a status word
(OPERATIONAL, UNDERMAINTENANCE, DEGRADEDPERFORMANCE, PARTIALOUTAGE, MAJOROUTAGE).

Only open incidents are listed, so an incident that leaves the list is marked resolved by the
poller (`LISTS_ONLY_OPEN`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from monitor.statuspages.model import OfficialComponent, OfficialIncident, read_time

LISTS_ONLY_OPEN = True

_COMPONENT_STATUS = {
    "OPERATIONAL": "operational",
    "UNDERMAINTENANCE": "under_maintenance",
    "DEGRADEDPERFORMANCE": "degraded_performance",
    "PARTIALOUTAGE": "partial_outage",
    "MINOROUTAGE": "partial_outage",
    "MAJOROUTAGE": "major_outage",
}
_IMPACT = {
    "DEGRADEDPERFORMANCE": "minor",
    "PARTIALOUTAGE": "major",
    "MINOROUTAGE": "minor",
    "MAJOROUTAGE": "critical",
}


def is_summary(data: Any) -> bool:
    return isinstance(data, dict) and isinstance(data.get("activeIncidents"), list)


def components_url(summary_url: str) -> str | None:
    """The `v2/components.json` beside a `summary.json`."""
    if summary_url.endswith("/summary.json"):
        return summary_url.removesuffix("summary.json") + "v2/components.json"
    return None


def parse_summary(page: str, data: Any, seen_at: datetime) -> list[OfficialIncident]:
    """The open incidents of a summary.json body. Raises ValueError for another shape."""
    if not is_summary(data):
        raise ValueError("not an Instatus summary: no 'activeIncidents' list")
    out = []
    for item in data["activeIncidents"]:
        if not isinstance(item, dict) or not (item.get("id") or item.get("url")):
            continue
        started = read_time(item.get("started"))
        status = str(item.get("status") or "INVESTIGATING").lower()
        out.append(
            OfficialIncident(
                page=page,
                incident_id=str(item.get("id") or item.get("url")),
                name=str(item.get("name") or ""),
                status=status,
                impact=_IMPACT.get(str(item.get("impact")), "none"),
                created_at=started or seen_at,
                started_at=started,
                resolved_at=seen_at if status == "resolved" else None,
                shortlink=item.get("url") if isinstance(item.get("url"), str) else None,
                created_at_is_first_seen=started is None,
            )
        )
    return out


def parse_components(page: str, data: Any) -> list[OfficialComponent]:
    """The components of a v2/components.json body (groups are left out)."""
    items = data.get("components") if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise ValueError("not an Instatus component list")
    out = []
    for item in items:
        if not isinstance(item, dict) or "id" not in item or item.get("isParent") is True:
            continue
        out.append(
            OfficialComponent(
                page=page,
                component_id=str(item["id"]),
                name=str(item.get("name") or item["id"]),
                status=_COMPONENT_STATUS.get(str(item.get("status")), "unknown"),
            )
        )
    return out
