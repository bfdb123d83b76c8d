"""The providers' own status pages, as brownout keeps them: components with a status word, and
posted incidents. The parsers of each page format (`monitor.statuspages.atlassian`, …) produce
these."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from monitor.result import format_ts

# Statuspage's component words, best to worst; anything else reads as "unknown".
COMPONENT_STATUSES = (
    "operational",
    "under_maintenance",
    "degraded_performance",
    "partial_outage",
    "major_outage",
)


@dataclass(slots=True)
class OfficialComponent:
    page: str
    component_id: str
    name: str
    status: str
    updated_at: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "page": self.page,
            "component": self.name,
            "status": self.status,
            "updated_at": format_ts(self.updated_at) if self.updated_at else None,
        }


@dataclass(slots=True)
class OfficialIncident:
    """An incident the provider posted. `created_at` is when it was posted: the moment the
    provider admitted it, which is what lead time is measured against."""

    page: str
    incident_id: str
    name: str
    status: str
    impact: str
    created_at: datetime
    started_at: datetime | None = None
    resolved_at: datetime | None = None
    shortlink: str | None = None
    components: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "page": self.page,
            "id": self.incident_id,
            "name": self.name,
            "status": self.status,
            "impact": self.impact,
            "created_at": format_ts(self.created_at),
            "started_at": format_ts(self.started_at) if self.started_at else None,
            "resolved_at": format_ts(self.resolved_at) if self.resolved_at else None,
            "shortlink": self.shortlink,
            "components": list(self.components),
        }
