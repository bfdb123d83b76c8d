"""One target's detector: its signals, its status, the flap guard and staleness. Pure: it sees
results and times, never a clock or a database.

Status: `down` when the errors signal says so, else `degraded` when any signal is active, else
`operational`; `unknown` when no result has arrived for `stale_after` intervals beyond what the
probes may take (their timeout): a probe in flight is not missing data. Hysteresis lives
in the signals (each enters on evidence of a shift and leaves on evidence of health); the flap
guard adds one more rule on top: `flap.count` worsenings within `flap.window` hold the target
`degraded` until no signal has been active for `flap.hold` (a provider going up and down is one
incident, not a dozen), and while held, `down` is shown only after `flap.sustained_down` failing
probes in a row.

**Workload tiers.** The timing signals (latency, TTFT, throughput) keep one baseline per tier
(`tiers` maps a canary to its tier; `short` when unnamed): a 10k-token prompt's latency is
compared with earlier 10k-token prompts, never with a one-line canary's. The rate signals
(errors, rate limits, quality) and the model watch every result together, except those of
burst canaries (`bursts`): N requests at once test capacity, and their 429s or timeouts are
not a brownout of the provider; they feed their own tier's timings only. `unknown` is about the monitor's data, not the provider: a return from it is
no worsening for the flap guard, and `resume(ts)` (a restart) starts the staleness clock again
instead of calling the monitor's own absence the provider's.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from monitor.config.detection import DetectionConfig
from monitor.detect.metrics import MetricSignal, Prior, metric_signals
from monitor.detect.model_change import ModelSignal
from monitor.detect.rates import ErrorsSignal, QualitySignal, RateLimitSignal, ToolCallsSignal
from monitor.detect.signal import Signal
from monitor.detect.types import Reason, Status, TargetStatus, Transition
from monitor.result import Outcome, ProbeResult, format_ts

BAD = (Status.DEGRADED, Status.DOWN)
DEFAULT_TIER = "short"
TIMINGS = (Reason.LATENCY, Reason.TTFT, Reason.THROUGHPUT)
TierPrior = Callable[[Reason, str], "tuple[str, MetricSignal] | None"]


class TargetDetector:
    def __init__(
        self,
        target: str,
        cfg: DetectionConfig,
        interval_s: float,
        since: datetime,
        per_interval: int = 1,
        timeout_s: float = 30.0,
        prior: TierPrior | None = None,
        *,
        load: float | None = None,
        tiers: Mapping[str, str] | None = None,
        bursts: frozenset[str] = frozenset(),
        seasonal: Mapping[tuple[str, str], dict[str, Any]] | None = None,
    ) -> None:
        self.target = target
        # Stored seasonal bins by (tier, reason), taken by each timing signal when it is made
        # (restart-safe: monitor.store.baselines).
        self._saved = dict(seasonal or {})
        self.cfg = cfg
        self.interval_s = interval_s
        # Staleness counts the probes of the round that reports most often (`per_interval`);
        # the thresholds count every probe, of every cadence (`load` per interval).
        self.stale_s = stale_seconds(cfg.stale_after, interval_s, timeout_s, per_interval)
        probes = load if load is not None else float(per_interval)
        self._h = h = cfg.threshold(interval_s, None, probes)
        self._leave = leave = cfg.leave_threshold(interval_s, probes)
        self.errors = ErrorsSignal(cfg.errors, cfg.errors.threshold or h, interval_s, leave)
        self.model = ModelSignal(cfg.model_change, lambda n: cfg.drift_alpha(interval_s, n))
        self._prior = prior
        self._tiers = dict(tiers or {})
        self._bursts = bursts
        self._rates: list[Signal] = [
            self.errors,
            RateLimitSignal(cfg.rate_limit, cfg.rate_limit.threshold or h, leave),
            QualitySignal(cfg.quality, cfg.quality.threshold or h, leave),
            ToolCallsSignal(cfg.tool_calls, cfg.tool_calls.threshold or h, leave),
            self.model,
        ]
        self.signals: list[Signal] = []
        self.tier_metrics: dict[str, list[MetricSignal]] = {}
        self.metrics = self._tier(DEFAULT_TIER)
        self.status = TargetStatus(target, Status.UNKNOWN, since)
        self.last_ts: datetime | None = None
        self._looking_since: datetime | None = None  # the monitor (re)started looking then
        self._known = Status.UNKNOWN  # the last status other than `unknown`
        # Entries into degraded/down within the flap window (a handful: a list will do).
        self._entries: list[datetime] = []
        self._held_until: datetime | None = None
        self._held_reasons: list[str] = []

    @property
    def stale_at(self) -> datetime | None:
        """When the target turns `unknown` if nothing arrives before: `stale_s` after its newest
        result, or after the monitor resumed looking if that is later."""
        if self.last_ts is None:
            return None
        start = self.last_ts
        if self._looking_since is not None and self._looking_since > start:
            start = self._looking_since
        return start + timedelta(seconds=self.stale_s)

    def metric(self, reason: Reason, tier: str = DEFAULT_TIER) -> MetricSignal | None:
        """Its timing signal for `reason` (latency, ttft, throughput) in `tier`."""
        return next((m for m in self.tier_metrics.get(tier, ()) if m.reason is reason), None)

    def _tier(self, tier: str) -> list[MetricSignal]:
        """The timing signals of `tier`, made on its first result."""
        found = self.tier_metrics.get(tier)
        if found is None:
            cfg = self.cfg
            found = metric_signals(
                cfg.latency,
                cfg.ttft,
                cfg.throughput,
                self._h,
                self._leave,
                seasonal=cfg.seasonal != "off",
            )
            prior = self._tier_prior(tier)  # one for the tier's signals
            for metric in found:
                metric.tier = tier
                metric.prior = prior
                state = self._saved.pop((tier, metric.reason.value), None)
                if state is not None and metric.seasonal is not None:
                    metric.seasonal.load(state)
            self.tier_metrics[tier] = found
            self._order_signals()
        return found

    def seasonal_states(self) -> list[tuple[str, str, dict[str, Any]]]:
        """(tier, reason, bins) of every timing signal that has learned seasonal bins."""
        out = []
        for tier, metrics in self.tier_metrics.items():
            for metric in metrics:
                seasonal = metric.seasonal
                if seasonal is not None and seasonal.last is not None:
                    out.append((tier, metric.reason.value, seasonal.state()))
        return out

    def _tier_prior(self, tier: str) -> Prior | None:
        prior = self._prior
        if prior is None:
            return None
        return lambda reason: prior(reason, tier)

    def _order_signals(self) -> None:
        """Every signal in the order reasons are listed: errors, rate limits, the timings (each
        over its tiers), quality, the model."""
        timings = [
            m for reason in TIMINGS for ms in self.tier_metrics.values() for m in ms
            if m.reason is reason
        ]  # fmt: skip
        self.signals = [*self._rates[:2], *timings, *self._rates[2:]]

    def resume(self, ts: datetime) -> None:
        """The monitor starts looking again at `ts` (after a restart): the time it was away is
        not the provider's silence, so staleness counts from `ts`."""
        if self._looking_since is None or ts > self._looking_since:
            self._looking_since = ts

    def observe(self, result: ProbeResult) -> Transition | None:
        """Feed one result (in time order); returns the transition it caused, if any."""
        if result.outcome is Outcome.CANCELLED:
            return None  # the monitor stopped mid-probe: no news about the provider
        self.last_ts = result.ts
        tier = self._tier(self._tiers.get(result.canary, DEFAULT_TIER))
        if result.canary not in self._bursts:
            for signal in self._rates:
                signal.observe(result)
        for metric in tier:
            metric.observe(result)
        if self.model.adopted:
            self.model.adopted = False
            for signal in self.signals:
                if signal is not self.model and signal is not self.errors:
                    signal.relearn()
        return self._evaluate(result.ts)

    def tick(self, now: datetime) -> Transition | None:
        """`unknown` once nothing fresh has arrived for `stale_after` intervals."""
        stale_at = self.stale_at
        if (
            stale_at is None
            or self.last_ts is None
            or now < stale_at
            or self.status.status is Status.UNKNOWN
        ):
            return None
        return self._move(
            stale_at,
            Status.UNKNOWN,
            [Reason.STALE.value],
            {"stale": {"last_result": format_ts(self.last_ts)}},
        )

    def _evaluate(self, ts: datetime) -> Transition | None:
        active = _one_per_reason([s for s in self.signals if s.level is not None])
        reasons = [s.reason.value for s in active]
        details: dict[str, Any] = {s.reason.value: _details(s) for s in active}
        status = Status.OPERATIONAL
        if active:
            status = Status.DOWN if self.errors.level is Status.DOWN else Status.DEGRADED
            self._held_reasons = sorted(set(self._held_reasons) | set(reasons))
            if self._held_until is not None:
                self._held_until = ts + timedelta(seconds=self.cfg.flap.hold)
        if status in BAD and status.severity > self._known.severity:
            # Every worsening counts towards the flap guard; coming back from `unknown` (the
            # monitor's own gap) to what it was before is none.
            self._note_entry(ts)
        held = self._held_until is not None and ts < self._held_until
        if not held:
            self._held_until = None
        if held:
            if status is Status.OPERATIONAL:
                status, reasons = Status.DEGRADED, list(self._held_reasons)
            elif status is Status.DOWN and self.errors.down_run < self.cfg.flap.sustained_down:
                status = Status.DEGRADED
            assert self._held_until is not None
            details["flapping"] = {"held_until": format_ts(self._held_until)}
        if not active and not held:
            self._held_reasons = []
        if status is self.status.status:
            self.status.reasons, self.status.details = reasons, details
            return None
        return self._move(ts, status, reasons, details)

    def _note_entry(self, ts: datetime) -> None:
        window = timedelta(seconds=self.cfg.flap.window)
        self._entries.append(ts)
        while self._entries and ts - self._entries[0] > window:
            del self._entries[0]
        if len(self._entries) >= self.cfg.flap.count:
            self._held_until = ts + timedelta(seconds=self.cfg.flap.hold)

    def _move(
        self, ts: datetime, status: Status, reasons: list[str], details: dict[str, Any]
    ) -> Transition:
        old = self.status.status
        if status is not Status.UNKNOWN:
            self._known = status
        self.status = TargetStatus(self.target, status, ts, reasons, details)
        return Transition(ts, self.target, old, status, list(reasons), details)

    def force(self, status: TargetStatus) -> None:
        """Take `status` as the current one (restored from the database after a restart); the
        next result moves it if the signals disagree."""
        self.status = TargetStatus(
            status.target, status.status, status.since, list(status.reasons), dict(status.details)
        )
        if status.status is not Status.UNKNOWN:
            self._known = status.status


def _one_per_reason(active: list[Signal]) -> list[Signal]:
    """Where one timing reason is on in several tiers, the tier furthest from its baseline."""
    best: dict[Reason, Signal] = {}
    for signal in active:
        kept = best.get(signal.reason)
        if kept is None or _ratio(signal) > _ratio(kept):
            best[signal.reason] = signal
    return [s for s in active if best[s.reason] is s]


def _ratio(signal: Signal) -> float:
    ratio = signal.details().get("ratio") if isinstance(signal, MetricSignal) else None
    return float(ratio) if isinstance(ratio, int | float) else 0.0


def _details(signal: Signal) -> dict[str, Any]:
    out = signal.details()
    if isinstance(signal, MetricSignal) and signal.tier != DEFAULT_TIER:
        out["tier"] = signal.tier
    return out


def stale_seconds(
    stale_after: float, interval_s: float, timeout_s: float, per_interval: int = 1
) -> float:
    """How long without a result before a target is `unknown`: `stale_after` intervals, plus
    what its probes may take. A result carries its probe's start and arrives when the round
    ends; a round starts at the first slot after the previous one ended (a slow target skips
    slots) and its `per_interval` probes each may run to the timeout, so a probe in flight is
    never mistaken for missing data however slow the target is."""
    return stale_after * interval_s + (per_interval + 1) * timeout_s
