"""Where the report's statuses and incidents come from.

`StatusSource` is what the report needs; `DetectionStore(store)` reads the detection store
(`monitor.store.detection`), and `RecordedStatuses` serves given transitions (backtests, tests,
or a what-if report over a replay's output).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Protocol

from monitor.detect.types import IncidentRecord, Status, Transition
from monitor.reports.timeline import Segment, segments
from monitor.store import Store, detection


def incident_seconds(incident: IncidentRecord, until: datetime) -> float:
    """Seconds from an incident's start to its end, or to `until` while it is open."""
    return ((incident.end or until) - incident.start).total_seconds()


class StatusSource(Protocol):
    def transitions(
        self, since: datetime, until: datetime | None, targets: Sequence[str] | None
    ) -> list[Transition] | None:
        """Transitions with `since <= ts < until` (no upper bound for None), oldest first;
        None when no status history is kept."""

    def current(self) -> dict[str, Status]:
        """Each target's status now."""

    def incidents(
        self, since: datetime, until: datetime, targets: Sequence[str] | None
    ) -> list[IncidentRecord] | None:
        """Incidents overlapping `[since, until)`, oldest first; None when none are kept."""


class DetectionStore:
    """The detection store (`monitor.store.detection`), as the report reads it."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def transitions(
        self, since: datetime, until: datetime | None, targets: Sequence[str] | None
    ) -> list[Transition] | None:
        return detection.transitions_between(self.store, since, until, targets=targets)

    def current(self) -> dict[str, Status]:
        return {name: s.status for name, s in detection.stored_statuses(self.store).items()}

    def incidents(
        self, since: datetime, until: datetime, targets: Sequence[str] | None
    ) -> list[IncidentRecord] | None:
        return detection.incidents_between(self.store, since, until, targets=targets)


class RecordedStatuses:
    """A `StatusSource` over given transitions (and optionally incidents): for backtests and tests."""

    def __init__(
        self, transitions: Iterable[Transition], incidents: Iterable[IncidentRecord] | None = None
    ) -> None:
        self._transitions = sorted(transitions, key=lambda t: t.ts)
        self._incidents = None if incidents is None else list(incidents)

    def transitions(
        self, since: datetime, until: datetime | None, targets: Sequence[str] | None
    ) -> list[Transition] | None:
        return [
            t
            for t in self._transitions
            if t.ts >= since
            and (until is None or t.ts < until)
            and (not targets or t.target in targets)
        ]

    def current(self) -> dict[str, Status]:
        return {t.target: t.new for t in self._transitions}

    def incidents(
        self, since: datetime, until: datetime, targets: Sequence[str] | None
    ) -> list[IncidentRecord] | None:
        if self._incidents is None:
            return None
        return [
            i
            for i in self._incidents
            if i.start < until
            and (i.end is None or i.end > since)
            and (not targets or i.target in targets)
        ]


def status_history(
    statuses: StatusSource, since: datetime, until: datetime, targets: Iterable[str]
) -> dict[str, list[Segment]] | None:
    """Each target's status segments covering `[since, until)`, or None without status history.

    The status at `since` is the `old` of the first transition at or after it; a target with no
    transition since then keeps its current status; a target never seen by detection is `unknown`.
    """
    wanted = sorted(set(targets))
    found = statuses.transitions(since, None, wanted or None)
    if found is None:
        return None
    by_target: dict[str, list[Transition]] = {t: [] for t in wanted}
    for t in found:
        by_target.setdefault(t.target, []).append(t)
    current = statuses.current() if any(not ts for ts in by_target.values()) else {}
    out: dict[str, list[Segment]] = {}
    for target, transitions in by_target.items():
        transitions.sort(key=lambda t: t.ts)
        initial = transitions[0].old if transitions else current.get(target, Status.UNKNOWN)
        out[target] = segments(initial, transitions, since, until)
    return out
