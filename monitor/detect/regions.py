"""Detection per target *and region*, and the quorum that makes one status of them.

    detector = RegionalDetector(config)
    transitions = detector.observe(results)     # results of every region, in time order
    detector.statuses()                         # each target's combined status

Each region's results go to that region's own `Detector` (baselines, signals, staleness: a slow
network in one region never shifts another's baseline). A target probed from one region only has
that region's status, transitions and all, exactly as before regions existed. A target probed
from several regions gets the combination, by the regions whose status is known (not `unknown`):

- `down` when at least `quorum` of them say `down`;
- `degraded` when at least `quorum` say `degraded` or `down`;
- `degraded` and *regional* when fewer than `quorum` see trouble: one region's bad network is
  reported as that region's, not as a provider outage;
- `operational` when none does; `unknown` when no region's status is known.

`quorum` is `detection.quorum` when set, else half of the known regions, rounded up (1 of 2,
2 of 3, 2 of 4). The combined status's `details` carry `regions` (the regions seeing trouble,
sorted), `regional` (fewer than quorum) and `by_region` (each region's status word); its reasons
are the union of the troubled regions' reasons. A transition is emitted when the combined status
changes, or when a trouble stays but becomes regional or stops being so.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any

from monitor.config import Config
from monitor.detect.engine import Detector
from monitor.detect.types import Status, TargetStatus, Transition
from monitor.result import ProbeResult

BAD = (Status.DEGRADED, Status.DOWN)


class RegionalDetector:
    """One `Detector` per region, and each target's combined status."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.quorum = config.detection.quorum
        self.regions: dict[str, Detector] = {}
        self.combined: dict[str, TargetStatus] = {}

    @property
    def targets(self) -> dict[str, list[str]]:
        """Every target seen, with the regions it was seen from."""
        out: dict[str, list[str]] = {}
        for region, detector in sorted(self.regions.items()):
            for name in detector.targets:
                out.setdefault(name, []).append(region)
        return out

    def region(self, name: str) -> Detector:
        detector = self.regions.get(name)
        if detector is None:
            detector = self.regions[name] = Detector(self.config)
        return detector

    def observe(self, results: Iterable[ProbeResult]) -> list[Transition]:
        """Feed results (any regions, in time order); returns the combined transitions."""
        out: list[Transition] = []
        for result in results:
            for transition in self.region(result.region).observe([result]):
                out.extend(self._combine(transition))
        return out

    def tick(self, now: datetime) -> list[Transition]:
        """Staleness in every region, combined."""
        out: list[Transition] = []
        for _region, detector in sorted(self.regions.items()):
            for transition in detector.tick(now):
                out.extend(self._combine(transition))
        out.sort(key=lambda t: t.ts)
        return out

    def resume(self, now: datetime) -> None:
        """The monitor starts looking again at `now` (after a restart or a takeover): every
        region's staleness counts from `now` (`Detector.resume`)."""
        for detector in self.regions.values():
            detector.resume(now)

    def statuses(self) -> dict[str, TargetStatus]:
        return dict(sorted(self.combined.items()))

    def load_seasonal(self, states: Mapping[tuple[str, str, str, str], dict[str, Any]]) -> None:
        """Stored seasonal bins by (target, region, tier, reason), taken by each timing signal
        when it is made (before the replay of a restart)."""
        for (target, region, tier, reason), state in states.items():
            saved = self.region(region).saved_seasonal
            saved.setdefault(target, {})[(tier, reason)] = state

    def seasonal_states(self) -> Iterator[tuple[tuple[str, str, str, str], dict[str, Any]]]:
        """((target, region, tier, reason), bins) of every timing signal with seasonal bins."""
        for region, detector in self.regions.items():
            for target, tier, reason, state in detector.seasonal_states():
                yield (target, region, tier, reason), state

    def force(self, status: TargetStatus, region: str | None = None) -> None:
        """Take `status` as the target's current combined status (restored after a restart).
        A target seen from one region only (or none yet) has that region's status forced too."""
        self.combined[status.target] = status
        seen = self.targets.get(status.target, [])
        if len(seen) <= 1:
            home = seen[0] if seen else region or self.config.region
            self.region(home).target(status.target, status.since).force(status)

    def _combine(self, transition: Transition) -> list[Transition]:
        target = transition.target
        per = {
            region: detector.targets[target].status
            for region, detector in self.regions.items()
            if target in detector.targets
        }
        old = self.combined.get(target)
        if len(per) == 1:  # one region: its own status and transitions, unchanged
            (status,) = per.values()
            self.combined[target] = _copy(status)
            return [transition]
        new = combine(target, per, self.quorum, transition.ts, old)
        self.combined[target] = new
        if old is not None and old.status == new.status and _regional(old) == _regional(new):
            return []
        return [
            Transition(
                transition.ts,
                target,
                old.status if old is not None else Status.UNKNOWN,
                new.status,
                list(new.reasons),
                dict(new.details),
            )
        ]


def quorum_of(known: int, quorum: int | None) -> int:
    """How many regions must agree: `quorum` when set (at most `known`), else half, rounded up."""
    if quorum is not None:
        return max(1, min(quorum, known))
    return max(1, math.ceil(known / 2))


def combine(
    target: str,
    per: dict[str, TargetStatus],
    quorum: int | None,
    ts: datetime,
    old: TargetStatus | None = None,
) -> TargetStatus:
    """One status of a target's statuses in several regions (see the module's docstring)."""
    known = {r: s for r, s in per.items() if s.status is not Status.UNKNOWN}
    by_region = {r: s.status.value for r, s in sorted(per.items())}
    reasons: list[str] = []
    details: dict[str, Any] = {}
    if not known:
        status, reasons = Status.UNKNOWN, ["stale"]
        troubled: list[str] = []
        regional = False
    else:
        need = quorum_of(len(known), quorum)
        down = [r for r, s in known.items() if s.status is Status.DOWN]
        troubled = sorted(r for r, s in known.items() if s.status in BAD)
        regional = 0 < len(troubled) < need
        if len(down) >= need:
            status = Status.DOWN
        elif troubled:
            status = Status.DEGRADED
        else:
            status = Status.OPERATIONAL
        for region in troubled:
            for reason in known[region].reasons:
                if reason not in reasons:
                    reasons.append(reason)
            for key, value in known[region].details.items():
                details.setdefault(key, value)
    details = {**details, "regions": troubled, "regional": regional, "by_region": by_region}
    since = old.since if old is not None and old.status == status else ts
    return TargetStatus(target, status, since, reasons, details)


def _regional(status: TargetStatus) -> bool:
    return bool(status.details.get("regional"))


def _copy(status: TargetStatus) -> TargetStatus:
    return TargetStatus(
        status.target, status.status, status.since, list(status.reasons), dict(status.details)
    )
