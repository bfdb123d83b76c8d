"""Google Cloud's status dashboard: `https://status.cloud.google.com/incidents.json` is a JSON
list of every incident posted, newest first, each with `created` (when it was posted),
`begin`, `end` (absent while it lasts), `external_desc`, `severity` (low, medium, high),
`status_impact` (SERVICE_INFORMATION, SERVICE_DISRUPTION, SERVICE_OUTAGE) and the
`affected_products` (`title`, `id`), which brownout treats as the incident's components: the
Gemini API on Vertex AI is one of them.

There is no component list: the components are the products named by incidents still open, at
the worst status those incidents give them.
"""

from __future__ import annotations

from typing import Any

from monitor.statuspages.model import (
    OfficialComponent,
    OfficialIncident,
    read_time,
    worst_component_status,
)

LISTS_ONLY_OPEN = False

_COMPONENT_STATUS = {
    "SERVICE_INFORMATION": "degraded_performance",
    "SERVICE_DISRUPTION": "partial_outage",
    "SERVICE_OUTAGE": "major_outage",
}
_IMPACT = {"low": "minor", "medium": "major", "high": "critical"}


def is_incident_list(data: Any) -> bool:
    return isinstance(data, list) and all(
        isinstance(item, dict) and "created" in item for item in data[:5]
    )


def parse(page: str, data: Any) -> tuple[list[OfficialComponent], list[OfficialIncident]]:
    """The open products and the incidents of an incidents.json body. Raises ValueError for
    another shape."""
    if not is_incident_list(data):
        raise ValueError("not a Google Cloud incidents.json: not a list of incidents")
    incidents = []
    statuses: dict[str, list[str]] = {}
    names: dict[str, str] = {}
    for item in data:
        created = read_time(item.get("created"))
        if created is None or "id" not in item:
            continue
        products = [p for p in item.get("affected_products") or [] if isinstance(p, dict)]
        ended = read_time(item.get("end"))
        if ended is None:
            for p in products:
                pid = str(p.get("id") or p.get("title"))
                names[pid] = str(p.get("title") or pid)
                statuses.setdefault(pid, []).append(
                    _COMPONENT_STATUS.get(str(item.get("status_impact")), "unknown")
                )
        uri = item.get("uri")
        incidents.append(
            OfficialIncident(
                page=page,
                incident_id=str(item["id"]),
                name=str(item.get("external_desc") or ""),
                status="resolved" if ended else "investigating",
                impact=_IMPACT.get(str(item.get("severity")), "none"),
                created_at=created,
                started_at=read_time(item.get("begin")),
                resolved_at=ended,
                shortlink=f"https://status.cloud.google.com/{uri}"
                if isinstance(uri, str)
                else None,
                components=[str(p.get("title")) for p in products if p.get("title")],
            )
        )
    components = [
        OfficialComponent(page, pid, names[pid], worst_component_status(s))
        for pid, s in statuses.items()
    ]
    return components, incidents
