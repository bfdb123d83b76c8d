"""The providers' own status pages, as brownout keeps them: components with a status word, and
posted incidents. The parsers of each page format (`monitor.statuspages.atlassian`, …) produce
these."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from monitor.result import format_ts, parse_ts

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
    provider admitted it, which is what lead time is measured against. A page that gives no such
    time (some widget feeds) is read at the first poll that lists the incident:
    `created_at_is_first_seen` says so, and the store then keeps the first such time. That time
    is later than the real post by up to one polling interval, so a lead time measured against
    it can be too long by as much."""

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
    created_at_is_first_seen: bool = False

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
            "posted_at_is_first_seen": self.created_at_is_first_seen,
        }


def read_time(value: Any) -> datetime | None:
    """A page's timestamp (ISO 8601), or None when absent or not a time."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return parse_ts(value)
    except ValueError:
        return None


def worst_component_status(statuses: list[str]) -> str:
    """The worst of Statuspage's component words (unknown words count as nothing)."""
    ranked = [s for s in statuses if s in COMPONENT_STATUSES]
    return max(ranked, key=COMPONENT_STATUSES.index, default="operational")
