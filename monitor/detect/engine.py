"""The pure core over many targets: results in, transitions out, on the results' own timestamps.

    detector = Detector(config)               # or Detector(detection, intervals={...})
    transitions = detector.observe(results)   # in time order
    transitions += detector.tick(now)         # staleness, when no results come
    detector.statuses()

`replay(results, config)` is the whole backtest `brownout replay` and the bench run: a week of one
target's results (10,080 at one a minute) takes a fraction of a second.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from monitor.config import Config
from monitor.config.detection import DetectionConfig
from monitor.detect.target import TargetDetector
from monitor.detect.types import TargetStatus, Transition
from monitor.result import ProbeResult


def intervals_of(config: Config) -> dict[str, float]:
    """Each configured target's probe interval in seconds (its provider's, or the schedule's)."""
    return {t.name: t.interval for t in config.targets()}


def canaries_of(config: Config) -> dict[str, int]:
    """How many probes each configured target gets per interval (one per canary)."""
    return {t.name: len(config.canaries_for(t)) for t in config.targets()}


class Detector:
    """Every target's `TargetDetector`, created on its first result."""

    def __init__(
        self,
        detection: DetectionConfig | Config,
        intervals: Mapping[str, float] | None = None,
        default_interval: float | None = None,
    ) -> None:
        self.per_interval: dict[str, int] = {}
        if isinstance(detection, Config):
            self.per_interval = canaries_of(detection)
            intervals = {**intervals_of(detection), **(intervals or {})}
            default_interval = default_interval or detection.schedule.interval
            detection = detection.detection
        self.detection = detection
        self.intervals = dict(intervals or {})
        self.default_interval = default_interval or 60.0
        self.targets: dict[str, TargetDetector] = {}
        self._next_check: datetime | None = None

    def target(self, name: str, since: datetime) -> TargetDetector:
        detector = self.targets.get(name)
        if detector is None:
            interval = self.intervals.get(name, self.default_interval)
            detector = TargetDetector(
                name,
                self.detection.for_target(name),
                interval,
                since,
                per_interval=self.per_interval.get(name, 1),
            )
            self.targets[name] = detector
        return detector

    def observe(self, results: Iterable[ProbeResult]) -> list[Transition]:
        """Feed results in time order; returns the transitions, staleness of others included."""
        out: list[Transition] = []
        for result in results:
            if self._next_check is not None and result.ts >= self._next_check:
                out.extend(self.tick(result.ts))
            transition = self.target(result.target, result.ts).observe(result)
            if transition is not None:
                out.append(transition)
            if self._next_check is None:
                self._next_check = self.targets[result.target].stale_at
        return out

    def tick(self, now: datetime) -> list[Transition]:
        """Targets with no fresh result for `stale_after` intervals become `unknown`."""
        out: list[Transition] = []
        upcoming: list[datetime] = []
        for detector in self.targets.values():
            transition = detector.tick(now)
            if transition is not None:
                out.append(transition)
            stale_at = detector.stale_at
            if stale_at is not None and stale_at > now:
                upcoming.append(stale_at)
        self._next_check = min(upcoming) if upcoming else None
        out.sort(key=lambda t: t.ts)
        return out

    def statuses(self) -> dict[str, TargetStatus]:
        return {name: d.status for name, d in sorted(self.targets.items())}


def replay(
    results: Iterable[ProbeResult],
    config: Config | DetectionConfig | None = None,
) -> list[Transition]:
    """Run detection over recorded results on their own timestamps (sorted by time first);
    returns every transition. Touches no database and reads no clock."""
    detector = Detector(config if config is not None else Config())
    ordered = sorted(results, key=lambda r: r.ts)
    return detector.observe(ordered)
