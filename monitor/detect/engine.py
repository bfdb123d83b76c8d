"""The pure core over many targets: results in, transitions out, on the results' own timestamps.

    detector = Detector(config)               # or Detector(detection, intervals={...})
    transitions = detector.observe(results)   # in time order
    transitions += detector.tick(now)         # staleness, when no results come
    detector.resume(now)                      # after a restart: the gap is the monitor's
    detector.statuses()

`replay(results, config)` is the whole backtest `brownout replay` and the bench run: a week of one
target's results (10,080 at one a minute) takes a fraction of a second. It judges each target on
the spacing of its own records (`spacing_of`), not on the config's interval: a history probed
once a minute is not stale because the config now says every 30 s.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime
from statistics import median
from typing import Any

from monitor.config import Config
from monitor.config.cadence import fastest, probes_per_interval
from monitor.config.detection import DetectionConfig
from monitor.detect.metrics import MetricSignal
from monitor.detect.target import TargetDetector, stale_seconds
from monitor.detect.types import Reason, Status, TargetStatus, Transition
from monitor.result import ProbeResult
from monitor.target import Target

BURST_GAP_S = 1.0
"""Results of one canary closer than this are one round's parallel probes (a burst), not its
cadence."""


def timeouts_of(config: Config) -> dict[str, float]:
    """Each configured target's probe timeout in seconds (its provider's, or the schedule's)."""
    return {t.name: t.timeout for t in config.targets()}


def stale_seconds_for(config: Config, target: str) -> float:
    """The detector's staleness rule for `target` under `config` (seconds without a result
    before `unknown`): `stale_after` intervals plus what its probes may take (see
    `monitor.detect.target.stale_seconds`). Unconfigured targets: the schedule's figures."""
    return stale_windows_for(config, [target])[target]


def stale_windows_for(config: Config, names: Iterable[str]) -> dict[str, float]:
    """`stale_seconds_for` of each of `names`, with the config's targets resolved once (a page
    of 200 targets would otherwise resolve them 200 times). A target whose canaries run at
    several cadences (`every:`) is judged on the round that reports most often."""
    configured = {t.name: t for t in config.targets()}
    out: dict[str, float] = {}
    for name in names:
        match = configured.get(name)
        timeout = match.timeout if match else config.schedule.timeout
        interval, canaries = _reporting(config, match) if match else (config.schedule.interval, 1)
        stale_after = config.detection.for_target(name).stale_after
        out[name] = stale_seconds(stale_after, interval, timeout, canaries)
    return out


def _reporting(config: Config, target: Target) -> tuple[float, int]:
    """How often `target` reports and with how many probes: its fastest round's cadence and
    canaries (`monitor.config.cadence.fastest`); its interval and none without canaries."""
    round_ = fastest(config.rounds_for(target))
    if round_ is None:
        return target.interval, 0
    return round_.every, len(round_.canaries)


def intervals_of(config: Config) -> dict[str, float]:
    """Each configured target's reporting interval in seconds: its fastest round's cadence (the
    target's interval, or the shortest `every:` of its canaries)."""
    return {t.name: _reporting(config, t)[0] for t in config.targets()}


def canaries_of(config: Config) -> dict[str, int]:
    """How many probes each configured target's fastest round sends (one per canary)."""
    return {t.name: _reporting(config, t)[1] for t in config.targets()}


def loads_of(config: Config) -> dict[str, float]:
    """Probes each configured target gets per reporting interval, over every cadence and
    burst: what the false-alarm allowance is shared by."""
    out = {}
    for target in config.targets():
        interval = _reporting(config, target)[0]
        out[target.name] = probes_per_interval(config.rounds_for(target), interval)
    return out


def spacing_of(results: Iterable[ProbeResult]) -> tuple[dict[str, float], dict[str, int]]:
    """Each target's reporting interval (seconds) and probes per interval, read from the records.

    A stream is one canary in one region; its cadence is the median gap between its consecutive
    results (gaps under `BURST_GAP_S` are one burst). The target's interval is its fastest
    stream's cadence and its probes per interval the number of streams at that cadence (within
    half of it): a canary probed every 3 hours does not make a target probed every minute look
    slower than it is. Targets with a single result per canary get no interval."""
    last: dict[tuple[str, str, str], datetime] = {}
    gaps: dict[tuple[str, str, str], list[float]] = {}
    streams: dict[str, set[tuple[str, str]]] = {}
    for r in results:
        key = (r.target, r.canary, r.region)
        streams.setdefault(r.target, set()).add((r.canary, r.region))
        before = last.get(key)
        if before is not None and r.ts > before:
            gap = (r.ts - before).total_seconds()
            if gap >= BURST_GAP_S:
                gaps.setdefault(key, []).append(gap)
        last[key] = r.ts
    cadences: dict[str, list[float]] = {}
    for (target, _canary, _region), values in gaps.items():
        cadences.setdefault(target, []).append(median(values))
    intervals = {target: min(values) for target, values in cadences.items()}
    counts = {}
    for target, pairs in streams.items():
        interval = intervals.get(target)
        known = cadences.get(target, [])
        unknown = len(pairs) - len(known)  # streams of a single result: counted, as before
        fast = sum(1 for c in known if interval is not None and c <= interval * 1.5)
        counts[target] = max(1, fast + unknown) if interval is not None else len(pairs)
    return intervals, counts


class Detector:
    """Every target's `TargetDetector`, created on its first result.

    `intervals` and `timeouts` (seconds, per target) say how often each target is probed and how
    long a probe may take, `per_interval` how many probes (canaries) it gets each interval; with
    a `Config` they come from it (explicit ones win), else `default_interval` (60 s),
    `default_timeout` (30 s) and one probe apply."""

    def __init__(
        self,
        detection: DetectionConfig | Config,
        intervals: Mapping[str, float] | None = None,
        default_interval: float | None = None,
        timeouts: Mapping[str, float] | None = None,
        default_timeout: float | None = None,
        per_interval: Mapping[str, int] | None = None,
        *,
        loads: Mapping[str, float] | None = None,
        tiers: Mapping[str, str] | None = None,
        bursts: frozenset[str] = frozenset(),
    ) -> None:
        self.per_interval: dict[str, int] = dict(per_interval or {})
        self.loads: dict[str, float] = dict(loads or {})
        self.tiers: dict[str, str] = dict(tiers or {})
        self.bursts = bursts
        if isinstance(detection, Config):
            self.per_interval = {**canaries_of(detection), **self.per_interval}
            if per_interval is None:  # the config's cadences, unless the caller measured them
                self.loads = {**loads_of(detection), **self.loads}
            self.tiers = {**detection.tiers(), **self.tiers}
            self.bursts = self.bursts | detection.burst_canaries()
            intervals = {**intervals_of(detection), **(intervals or {})}
            timeouts = {**timeouts_of(detection), **(timeouts or {})}
            default_interval = default_interval or detection.schedule.interval
            default_timeout = default_timeout or detection.schedule.timeout
            detection = detection.detection
        self.detection = detection
        self.intervals = dict(intervals or {})
        self.default_interval = default_interval or 60.0
        self.timeouts = dict(timeouts or {})
        self.default_timeout = default_timeout or 30.0
        self.targets: dict[str, TargetDetector] = {}
        self._by_model: dict[str, list[str]] = {}  # the last part of the name -> targets
        self._next_check: datetime | None = None
        # Stored seasonal bins: target -> (tier, reason) -> bins, taken when the target is made.
        self.saved_seasonal: dict[str, dict[tuple[str, str], dict[str, Any]]] = {}

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
                timeout_s=self.timeouts.get(name, self.default_timeout),
                prior=self._prior_for(name),
                load=self.loads.get(name),
                tiers=self.tiers,
                bursts=self.bursts,
                seasonal=self.saved_seasonal.pop(name, None),
            )
            self.targets[name] = detector
            self._by_model.setdefault(name.rsplit("/", 1)[-1], []).append(name)
        return detector

    def _prior_for(self, name: str) -> Callable[[Reason, str], tuple[str, MetricSignal] | None]:
        """A target's prior while its own baseline (of a tier) is short: the same model (the
        last part of the name) in the same tier on another target whose baseline is ready and
        which is operational."""
        peers = self._by_model.setdefault(name.rsplit("/", 1)[-1], [])

        def prior(reason: Reason, tier: str) -> tuple[str, MetricSignal] | None:
            for other in peers:
                detector = self.targets[other]
                if other == name or detector.status.status in (Status.DEGRADED, Status.DOWN):
                    continue
                signal = detector.metric(reason, tier)
                if signal is not None and signal.ready:
                    return other, signal
            return None

        return prior

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

    def resume(self, now: datetime) -> None:
        """The monitor starts looking again at `now` (after a restart): every target's staleness
        counts from `now`, so the time the monitor was away makes no `unknown` of it."""
        for detector in self.targets.values():
            detector.resume(now)
        upcoming = [d.stale_at for d in self.targets.values() if d.stale_at is not None]
        self._next_check = min(upcoming) if upcoming else None

    def statuses(self) -> dict[str, TargetStatus]:
        return {name: d.status for name, d in sorted(self.targets.items())}

    def seasonal_states(self) -> Iterator[tuple[str, str, str, dict[str, Any]]]:
        """(target, tier, reason, bins) of every timing signal with seasonal bins learned."""
        for name, detector in self.targets.items():
            for tier, reason, state in detector.seasonal_states():
                yield name, tier, reason, state


def replay(
    results: Iterable[ProbeResult],
    config: Config | DetectionConfig | None = None,
    interval: float | None = None,
    tiers: Mapping[str, str] | None = None,
) -> list[Transition]:
    """Run detection over recorded results on their own timestamps (sorted by time first);
    returns every transition. Each target's interval is `interval` when given, else the spacing
    of its own records (`spacing_of`), else the config's; `tiers` maps canaries to workload
    tiers beyond the config's. Touches no database, reads no clock."""
    ordered = sorted(results, key=lambda r: r.ts)
    intervals, per_interval = spacing_of(ordered)
    if interval is not None:
        intervals = {target: interval for target in per_interval}
    detector = Detector(
        config if config is not None else Config(),
        intervals=intervals,
        default_interval=interval,
        per_interval=per_interval,
        tiers=tiers,
    )
    return detector.observe(ordered)
