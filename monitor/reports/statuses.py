"""Where the report's statuses and incidents come from: the detection role's store.

`StatusSource` is what the report needs from it; `DetectionStore(store)` reads
`monitor.store.incidents` (`transitions_between`, `current_statuses`, `incidents_between`) and
answers None while that module does not exist, so the report says so instead of guessing.
Tests and backtests pass `RecordedStatuses` built from transitions instead.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from monitor.detect.types import Status, Transition
from monitor.reports.source import optional_store_module
from monitor.reports.timeline import Segment, segments
from monitor.store import Store


@dataclass(frozen=True, slots=True)
class IncidentRecord:
    """An incident as the report shows it; `end` is None while it is still open."""

    target: str
    start: datetime
    end: datetime | None
    worst: Status
    reasons: tuple[str, ...]

    def duration(self, until: datetime) -> float:
        """Seconds from start to end, or to `until` while open."""
        return ((self.end or until) - self.start).total_seconds()


class StatusSource(Protocol):
    def transitions(
        self, since: datetime, until: datetime | None, targets: Sequence[str] | None
    ) -> list[Transition] | None:
        """Transitions with `since <= ts < until` (no upper bound for None), oldest first."""

    def current(self) -> dict[str, Status]:
        """Each target's status now."""

    def incidents(
        self, since: datetime, until: datetime, targets: Sequence[str] | None
    ) -> list[IncidentRecord] | None:
        """Incidents overlapping `[since, until)`, or None when incidents are not stored."""


def _utc(ts: datetime) -> datetime:
    return ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)


class DetectionStore:
    """The detection role's store functions, read through their published names."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.module = optional_store_module("monitor.store.incidents")

    def _has(self, name: str) -> bool:
        return self.module is not None and hasattr(self.module, name)

    def transitions(
        self, since: datetime, until: datetime | None, targets: Sequence[str] | None
    ) -> list[Transition] | None:
        if not self._has("transitions_between"):
            return None
        assert self.module is not None
        found = self.module.transitions_between(
            self.store, since, until, targets=list(targets) if targets else None
        )
        return [
            Transition(
                _utc(t.ts), t.target, Status(t.old), Status(t.new), list(t.reasons), dict(t.details)
            )
            for t in found
        ]

    def current(self) -> dict[str, Status]:
        if not self._has("current_statuses"):
            return {}
        assert self.module is not None
        value = self.module.current_statuses(self.store)
        items = value.values() if isinstance(value, dict) else value
        return {s.target: Status(s.status) for s in items}

    def incidents(
        self, since: datetime, until: datetime, targets: Sequence[str] | None
    ) -> list[IncidentRecord] | None:
        if not self._has("incidents_between"):
            return None
        assert self.module is not None
        out = []
        for inc in self.module.incidents_between(
            self.store, since, until, targets=list(targets) if targets else None
        ):
            start = _field(inc, "start", "started_at", "opened_at")
            end = _field(inc, "end", "ended_at", "resolved_at", "closed_at")
            worst = _field(inc, "worst", "worst_status", "status")
            out.append(
                IncidentRecord(
                    target=inc.target,
                    start=_utc(start),
                    end=_utc(end) if end is not None else None,
                    worst=Status(worst) if worst is not None else Status.DEGRADED,
                    reasons=tuple(_field(inc, "reasons") or ()),
                )
            )
        return sorted(out, key=lambda i: (i.start, i.target))


def _field(obj: Any, *names: str) -> Any:
    """The first of `names` the incident type has (its shape is the detection role's)."""
    for name in names:
        if isinstance(obj, dict) and name in obj:
            return obj[name]
        if hasattr(obj, name):
            return getattr(obj, name)
    return None


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
