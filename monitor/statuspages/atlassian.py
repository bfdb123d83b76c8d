"""Atlassian Statuspage's JSON: `…/api/v2/summary.json` lists components with a status word and
the incidents not yet resolved; `…/api/v2/incidents.json` lists the latest incidents, resolved
ones too. Parsing is lenient (a field the page leaves out is None) but a body that is not that
shape raises ValueError.
"""

from __future__ import annotations

from typing import Any

from monitor.statuspages.model import (
    COMPONENT_STATUSES,
    OfficialComponent,
    OfficialIncident,
    read_time,
)


def _require_list(data: Any, key: str) -> list[Any]:
    if not isinstance(data, dict) or not isinstance(data.get(key, []), list):
        raise ValueError(f"not a Statuspage document: {key!r} is not a list")
    items: list[Any] = data.get(key, [])
    return [item for item in items if isinstance(item, dict)]


def parse_components(page: str, data: Any) -> list[OfficialComponent]:
    """The components of a summary.json body; group headers (`group: true`) are left out."""
    out = []
    for item in _require_list(data, "components"):
        if item.get("group") is True or "id" not in item:
            continue
        status = str(item.get("status") or "unknown")
        out.append(
            OfficialComponent(
                page=page,
                component_id=str(item["id"]),
                name=str(item.get("name") or item["id"]),
                status=status if status in COMPONENT_STATUSES else "unknown",
                updated_at=read_time(item.get("updated_at")),
            )
        )
    return out


def parse_incidents(page: str, data: Any) -> list[OfficialIncident]:
    """The incidents of a summary.json or incidents.json body (those without a creation time,
    which cannot be placed in time, are left out)."""
    out = []
    for item in _require_list(data, "incidents"):
        created = read_time(item.get("created_at"))
        if created is None or "id" not in item:
            continue
        components = [
            str(c.get("name")) for c in item.get("components") or [] if isinstance(c, dict)
        ]
        out.append(
            OfficialIncident(
                page=page,
                incident_id=str(item["id"]),
                name=str(item.get("name") or ""),
                status=str(item.get("status") or "unknown"),
                impact=str(item.get("impact") or "none"),
                created_at=created,
                started_at=read_time(item.get("started_at")),
                resolved_at=read_time(item.get("resolved_at")),
                shortlink=item.get("shortlink") if isinstance(item.get("shortlink"), str) else None,
                components=components,
            )
        )
    return out
