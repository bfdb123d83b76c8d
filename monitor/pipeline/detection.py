"""Detection inside `brownout run`: the pure `Detector` plus the database.

    service = DetectionService(store, config)
    service.restore()                        # after a (re)start
    transitions = service.observe(batch)     # after each batch of stored results
    transitions += service.tick()            # every few seconds: staleness

Every transition, incident change and current status is written in one transaction through
`monitor.store.detection`; the transitions are returned for alerts. A status is written only when
it differs from the one last written (its status, `since`, reasons or figures): at steady state
most targets are operational with nothing new to say, and rewriting 2,000 rows every interval
was a third of the pipeline thread's time (bench/load.py).
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from monitor.config import Config
from monitor.detect.fleet import fleet_status
from monitor.detect.incidents import IncidentTracker
from monitor.detect.regions import RegionalDetector
from monitor.detect.types import FleetStatus, Status, TargetStatus, Transition
from monitor.memory import release_free_memory
from monitor.result import ProbeResult, utcnow
from monitor.store import Store, baselines, detection
from monitor.store import results as stored_results

log = logging.getLogger(__name__)

Written = tuple[Status, datetime, list[str], dict[str, Any]]

RESTORE_WINDOW = timedelta(days=1)  # results replayed to rebuild baselines after a restart
SEASONAL_SAVE = timedelta(hours=1)  # seasonal bins that changed are stored this often


class DetectionService:
    """Per-target (and per-region: `monitor.detect.regions`) detection state in memory, its
    outcome in the database."""

    def __init__(
        self, store: Store, config: Config, clock: Callable[[], datetime] = utcnow
    ) -> None:
        self.store = store
        self.config = config
        self.clock = clock
        self.detector = RegionalDetector(config)
        self.tracker = IncidentTracker()
        self._seasonal_saved_at: datetime | None = None
        self._seasonal_last: dict[tuple[str, str, str, str], float | None] = {}
        self._written: dict[str, Written] = {}  # each target's status as last stored

    def restore(self, window: timedelta = RESTORE_WINDOW) -> None:
        """Rebuild baselines by replaying the last `window` of stored results (silently), then
        take the stored current statuses (with their `since`) and open incidents as the truth to
        continue from.

        The time the monitor was away is its own gap, not the provider's behaviour: staleness
        counts from now (no target turns `unknown` for the downtime), and returning from a gap
        is no worsening for the flap guard, so restarts neither flap nor reset `since`. The
        read side shows the downtime as missing results."""
        now = self.clock()
        self.detector = RegionalDetector(self.config)
        # The seasonal bins (weeks of history, more than the replayed day) come from their own
        # table; the replay does not count again the samples they hold.
        saved = baselines.load_seasonal(self.store)
        self.detector.load_seasonal(saved)
        self._seasonal_last = {key: state.get("last") for key, state in saved.items()}
        self._seasonal_saved_at = now
        self.detector.observe(stored_results.between(self.store, now - window, now))
        stored = detection.stored_statuses(self.store)
        for status in stored.values():
            self.detector.force(status)
        self._written = {name: _written(status) for name, status in stored.items()}
        self.detector.resume(now)
        self.tracker = IncidentTracker(detection.open_incidents(self.store))
        # The replay's records are gone; the heap pages they took are not (monitor.memory).
        release_free_memory()
        log.info(
            "detection restored: %d targets, %d open incidents",
            len(self.detector.targets),
            len(self.tracker.open),
        )

    def observe(self, results: Sequence[ProbeResult]) -> list[Transition]:
        """Detect over `results` (already stored, in time order); store and return transitions."""
        if not results:
            return []
        transitions = self.detector.observe(sorted(results, key=lambda r: r.ts))
        touched = {r.target for r in results} | {t.target for t in transitions}
        self._save(transitions, touched)
        self.save_seasonal()
        return transitions

    def save_seasonal(self, force: bool = False) -> int:
        """Store the seasonal bins that learned something since they were last stored, once
        every `SEASONAL_SAVE` (or now, with `force`); returns how many rows were written. A
        crash loses at most that much of their learning: they are summaries that move slowly."""
        now = self.clock()
        due = self._seasonal_saved_at is None or now - self._seasonal_saved_at >= SEASONAL_SAVE
        if not (due or force):
            return 0
        self._seasonal_saved_at = now
        changed = [
            (key, state)
            for key, state in self.detector.seasonal_states()
            if self._seasonal_last.get(key) != state.get("last")
        ]
        written = baselines.save_seasonal(self.store, changed, now=now)
        for key, state in changed:
            self._seasonal_last[key] = state.get("last")
        return written

    def tick(self) -> list[Transition]:
        """Targets with no fresh result for `stale_after` intervals become `unknown`."""
        transitions = self.detector.tick(self.clock())
        if transitions:
            self._save(transitions, {t.target for t in transitions})
        return transitions

    def statuses(self) -> dict[str, TargetStatus]:
        return self.detector.statuses()

    def fleet(self) -> FleetStatus:
        return fleet_status(self.statuses(), self.config.detection.fleet.providers)

    def _save(self, transitions: list[Transition], touched: Iterable[str]) -> None:
        # A view, not a sorted copy of every target's status: a batch touches a few targets,
        # and copying 2,000 statuses per batch was most of detection's cost (bench/load.py).
        statuses = self.detector.combined
        changed = self.tracker.apply(transitions, statuses)
        new = [
            statuses[t]
            for t in sorted(touched)
            if t in statuses and not _same(self._written.get(t), statuses[t])
        ]
        if not (transitions or changed or new):
            return
        detection.save_detection(
            self.store, transitions=transitions, incidents=changed, statuses=new, now=self.clock()
        )
        for status in new:  # once stored: a failed write is tried again with the next batch
            self._written[status.target] = _written(status)


def _written(status: TargetStatus) -> Written:
    return status.status, status.since, list(status.reasons), copy.deepcopy(status.details)


def _same(written: Written | None, status: TargetStatus) -> bool:
    return written is not None and written == (
        status.status,
        status.since,
        status.reasons,
        status.details,
    )
