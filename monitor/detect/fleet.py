"""The whole fleet's status, and the *intelligence brownout* flag: several providers (not just
several models of one provider) degraded or down at the same time."""

from __future__ import annotations

from collections.abc import Mapping

from monitor.detect.types import FleetStatus, Status, TargetStatus

SUMMARY = {
    Status.OPERATIONAL: "operational",
    Status.DEGRADED: "some degraded",
    Status.DOWN: "some down",
    Status.UNKNOWN: "no data",
}


def fleet_status(statuses: Mapping[str, TargetStatus], min_providers: int = 2) -> FleetStatus:
    """Worst status over targets with data (`unknown` only if none has data)."""
    counts = {s.value: 0 for s in Status}
    for status in statuses.values():
        counts[status.status.value] += 1
    known = [s.status for s in statuses.values() if s.status is not Status.UNKNOWN]
    worst = max(known, key=lambda s: s.severity) if known else Status.UNKNOWN
    affected = sorted(
        {
            name.partition("/")[0]
            for name, s in statuses.items()
            if s.status in (Status.DEGRADED, Status.DOWN)
        }
    )
    return FleetStatus(
        status=worst,
        summary=SUMMARY[worst],
        counts=counts,
        affected_providers=affected,
        intelligence_brownout=len(affected) >= min_providers,
    )
