"""incident.io status pages, read through their public widget API (enabled per page under
Settings → Widget API). Its JSON holds three lists: `ongoing_incidents`,
`in_progress_maintenances` and `scheduled_maintenances`; each incident has an id, a name, a
status (investigating, identified, monitoring, resolved), its worst impact
(`current_worst_impact`: degraded_performance, partial_outage, full_outage) and its affected
components, each with its `current_status`.

What the widget does not give is a history: an incident that has ended leaves the list, so the
poller marks a stored incident resolved when a later poll no longer lists it
(`LISTS_ONLY_OPEN`). Components are those named by an ongoing incident; the page's full
component list is not in the widget. Maintenances are not incidents and are left out.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from monitor.statuspages.model import (
    COMPONENT_STATUSES,
    OfficialComponent,
    OfficialIncident,
    read_time,
    worst_component_status,
)

LISTS_ONLY_OPEN = True

# incident.io's words, mapped onto Statuspage's (brownout's common vocabulary).
_COMPONENT_STATUS = {"full_outage": "major_outage"}
_IMPACT = {
    "degraded_performance": "minor",
    "partial_outage": "major",
    "full_outage": "critical",
}


def is_widget(data: Any) -> bool:
    return isinstance(data, dict) and isinstance(data.get("ongoing_incidents"), list)


def _status(word: Any) -> str:
    status = _COMPONENT_STATUS.get(str(word), str(word))
    return status if status in COMPONENT_STATUSES else "unknown"


def parse(
    page: str, data: Any, seen_at: datetime
) -> tuple[list[OfficialComponent], list[OfficialIncident]]:
    """The components and incidents of a widget body. Raises ValueError for another shape."""
    if not is_widget(data):
        raise ValueError("not an incident.io widget document: no 'ongoing_incidents' list")
    statuses: dict[str, list[str]] = {}
    names: dict[str, str] = {}
    incidents = []
    for item in data["ongoing_incidents"]:
        if not isinstance(item, dict) or "id" not in item:
            continue
        affected = [c for c in item.get("affected_components") or [] if isinstance(c, dict)]
        for c in affected:
            cid = str(c.get("id") or c.get("name"))
            names[cid] = str(c.get("name") or cid)
            statuses.setdefault(cid, []).append(_status(c.get("current_status")))
        posted = next(
            (
                t
                for key in ("published_at", "started_at", "created_at")
                if (t := read_time(item.get(key))) is not None
            ),
            None,
        )
        status = str(item.get("status") or "investigating")
        incidents.append(
            OfficialIncident(
                page=page,
                incident_id=str(item["id"]),
                name=str(item.get("name") or ""),
                status=status,
                impact=_IMPACT.get(str(item.get("current_worst_impact")), "none"),
                created_at=posted or seen_at,
                started_at=posted,
                resolved_at=seen_at if status == "resolved" else None,
                shortlink=item.get("url") if isinstance(item.get("url"), str) else None,
                components=[str(c.get("name")) for c in affected if c.get("name")],
                created_at_is_first_seen=posted is None,
            )
        )
    components = [
        OfficialComponent(page, cid, names[cid], worst_component_status(s), seen_at)
        for cid, s in statuses.items()
    ]
    return components, incidents
