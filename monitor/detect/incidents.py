"""Incidents from transitions: every stretch of `degraded`/`down` is one incident. Pure.

An incident opens when a target enters `degraded` or `down` and closes when it returns to
`operational`. `unknown` does not close it: not looking is not the same as being well. While
open, it keeps the worst status, the union of reasons and, per reason, the peak figures.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import Any

from monitor.detect.types import IncidentRecord, Status, TargetStatus, Transition

BAD = (Status.DEGRADED, Status.DOWN)

# Per reason: the figure that says how bad it is, and whether higher is worse.
PEAK_KEYS: dict[str, tuple[str, bool]] = {
    "errors": ("rate", True),
    "rate_limit": ("rate", True),
    "latency": ("ratio", True),
    "ttft": ("ratio", True),
    "throughput": ("ratio", True),
    "quality": ("pass_rate", False),
    "model_change": ("p_value", False),  # a drift alarm's: the smallest is the strongest
    "tool_calls": ("pass_rate", False),
}


def merge_peak(peak: dict[str, Any], details: Mapping[str, Any]) -> bool:
    """Fold a status's `details` into an incident's `peak`; returns True if anything changed."""
    changed = False
    for reason, figures in details.items():
        if not isinstance(figures, dict) or reason in ("flapping", "stale"):
            continue
        old = peak.get(reason)
        if old is None:
            peak[reason] = copy.deepcopy(figures)
            changed = True
            continue
        key, higher_worse = PEAK_KEYS.get(reason, ("", True))
        new_value, old_value = figures.get(key), old.get(key)
        if new_value is None or old_value is None:
            continue
        if (new_value > old_value) if higher_worse else (new_value < old_value):
            peak[reason] = copy.deepcopy(figures)
            changed = True
    return changed


class IncidentTracker:
    """The open incident of each target, kept up to date from transitions and statuses."""

    def __init__(self, open_incidents: Iterable[IncidentRecord] = ()) -> None:
        self.open: dict[str, IncidentRecord] = {i.target: i for i in open_incidents}

    def apply(
        self, transitions: Iterable[Transition], statuses: Mapping[str, TargetStatus]
    ) -> list[IncidentRecord]:
        """Open, update and close incidents; returns the records that changed (closed included)."""
        changed: dict[int, IncidentRecord] = {}
        for t in transitions:
            incident = self.open.get(t.target)
            if t.new in BAD:
                if incident is None:
                    incident = IncidentRecord(t.target, t.ts, t.new, reasons=sorted(t.reasons))
                    merge_peak(incident.peak, t.details)
                    self.open[t.target] = incident
                else:
                    self._widen(incident, t.new, t.reasons, t.details)
                changed[id(incident)] = incident
            elif t.new is Status.OPERATIONAL and incident is not None:
                incident.end = t.ts
                del self.open[t.target]
                changed[id(incident)] = incident
        for target, incident in self.open.items():
            status = statuses.get(target)
            if (
                status is not None
                and status.status in BAD
                and self._widen(incident, status.status, status.reasons, status.details)
            ):
                changed[id(incident)] = incident
        return list(changed.values())

    @staticmethod
    def _widen(
        incident: IncidentRecord, status: Status, reasons: list[str], details: Mapping[str, Any]
    ) -> bool:
        changed = merge_peak(incident.peak, details)
        if status.severity > incident.worst.severity:
            incident.worst, changed = status, True
        union = sorted(set(incident.reasons) | set(reasons))
        if union != incident.reasons:
            incident.reasons, changed = union, True
        return changed
