"""`detection:` — how brownouts and outages are told from noise (read by
`monitor.detect`).

Every key has a default that suits probes every 30–60 s; see docs/detection.md for the rule
behind each one. Per-target overrides take the same sections, only the keys they set:

    detection:
      false_alarms_per_month: 1       # sets every CUSUM threshold; lower = slower, quieter
      stale_after: 3                  # intervals without a fresh result -> unknown
      seasonal: auto                  # hour-of-day/week timing baselines where a cycle shows; off
      errors: {expected_rate: 0.005, degraded_rate: 0.10}
      latency: {ratio: 2.0, max_ms: 20000}
      quality: {expected_pass_rate: 0.97, drop: 0.15}
      model_change: {adopt_after: 2h}
      flap: {window: 1h, count: 3, hold: 30m}
      overrides:
        ollama: {latency: {ratio: 3.0}}       # globs on PROVIDER/MODEL or provider names, in order
"""

from __future__ import annotations

import math
from typing import Any, Literal

from pydantic import Field

from monitor.config.schema import Duration, Strict
from monitor.target import matches

MONTH_S = 30 * 86400.0
CUSUMS = 3  # the false-alarm allowance is split as if among this many CUSUMs
# The leaving test of the rate signals: a brownout of BROWNOUT_S ends early (a false all clear)
# in at most FALSE_END of cases by Lorden's bound (which is loose: in fact far fewer).
BROWNOUT_S = 3 * 3600.0
FALSE_END = 0.05


class ErrorsConfig(Strict):
    """Provider failures (`Outcome.provider_failure`): degraded on a partial rate, down when
    (nearly) all fail. Rates are fractions of probes."""

    expected_rate: float = Field(0.005, gt=0, lt=0.5)  # floor of the learned healthy rate
    max_expected_rate: float = Field(0.05, gt=0, lt=0.5)  # a target failing more is degraded
    degraded_rate: float = Field(0.10, gt=0, lt=1)  # the shift the CUSUM is tuned to
    down_rate: float = Field(0.95, gt=0, lt=1)
    threshold: float | None = Field(None, gt=0)  # CUSUM threshold (nats); None: from false alarms
    # Evidence of health (nats) needed to leave `degraded`; None: the leaving threshold derived
    # from the interval (`DetectionConfig.leave_threshold`, about 8 nats at one probe a minute).
    clear: float | None = Field(None, gt=0)
    down_clear: float = Field(4.0, gt=0)  # ... needed to leave `down`
    # ... needed to leave the `degraded` that follows `down` (None: as `clear`): an outage ends
    # in `degraded` until the failures have clearly stopped, so a brownout that began with a run
    # of failures stays one incident.
    after_down_clear: float | None = Field(None, gt=0)


class RateLimitConfig(Strict):
    """429s, kept apart from errors as reason `rate_limit` (they are about your quota too)."""

    enabled: bool = True
    expected_rate: float = Field(0.002, gt=0, lt=0.5)
    max_expected_rate: float = Field(0.05, gt=0, lt=0.5)
    degraded_rate: float = Field(0.30, gt=0, lt=1)
    threshold: float | None = Field(None, gt=0)
    clear: float | None = Field(None, gt=0)  # None: the derived leaving threshold


class BaselineConfig(Strict):
    """A figure against the target's own robust baseline (log-space median and IQR)."""

    enabled: bool = True
    ratio: float = Field(2.0, gt=1)  # the slowdown (x times) the CUSUM is tuned to
    threshold: float | None = Field(None, gt=0)
    clear: float | None = Field(None, gt=0)  # None: the derived leaving threshold
    window: int = Field(1440, ge=20)  # healthy samples the baseline remembers
    min_samples: int = Field(30, ge=5)  # before this many, the signal only learns
    min_spread: float = Field(0.08, gt=0)  # floor of the log-space spread (simulators are flat)
    relearn_after: Duration = 86400.0  # a shift lasting this long becomes the new baseline


class MetricConfig(BaselineConfig):
    """Latency or TTFT; `max_ms` is an absolute limit on the median of the last few probes."""

    max_ms: float | None = Field(None, gt=0)


class ThroughputConfig(BaselineConfig):
    """Tokens per second: `ratio` is the slowdown factor (2.0 = half the tokens per second);
    `min_per_s` is an absolute floor on the median of the last few probes."""

    min_per_s: float | None = Field(None, gt=0)


class QualityConfig(Strict):
    """Canary pass rate (answered probes) with a Bernoulli CUSUM against the learned pass rate."""

    enabled: bool = True
    expected_pass_rate: float = Field(0.97, gt=0.5, lt=1)  # prior for the learned pass rate
    min_pass_rate: float = Field(0.5, gt=0, lt=1)  # a baseline never goes below this
    drop: float = Field(0.15, gt=0, lt=1)  # the drop of pass rate the CUSUM is tuned to
    threshold: float | None = Field(None, gt=0)
    clear: float | None = Field(None, gt=0)  # None: the derived leaving threshold


class ToolCallsConfig(QualityConfig):
    """Tool canaries' pass rate (`tool_check` of answered tool probes), apart from `quality`:
    tool calls have their own healthy rate. Tuned to a rise of failures from 2 % to 10 %."""

    expected_pass_rate: float = Field(0.98, gt=0.5, lt=1)
    drop: float = Field(0.08, gt=0, lt=1)


class ModelChangeConfig(Strict):
    """The answering model (`response_model`, and `system_fingerprint` when `fingerprint`)."""

    enabled: bool = True
    # Off by default: OpenAI rotates `system_fingerprint` across its serving fleet, so a new one
    # is routine; a changed `response_model` is the signal that matters. Opt in per target.
    fingerprint: bool = False
    adopt_after: Duration = 7200.0  # a new model seen this long becomes the baseline
    forget_after: Duration = 7 * 86400.0  # an established value not seen this long is dropped
    revert_after: int = Field(10, ge=1)  # this many established answers in a row end it
    # Model-identity drift (monitor.detect.drift): a canary's answers compared, window after
    # window, with a reference window of its first answers, by a permutation test.
    logprobs: bool = True  # test the first-token top logprobs of results that carry them
    answers: list[str] = Field(default_factory=list)  # canaries whose answer texts are tested
    reference: int = Field(30, ge=2, le=500)  # answers in the reference window, per canary
    window: int = Field(20, ge=2, le=500)  # answers in each tested window
    alpha: float | None = Field(None, gt=0, lt=1)  # per test; None: derived (drift_alpha)


class FlapConfig(Strict):
    """Flap guard: `count` worsenings (into `degraded`, or into `down`) within `window` hold the
    target `degraded` until it has been clean for `hold`, so a provider going up and down is one
    incident with one status, not many."""

    window: Duration = 3600.0
    count: int = Field(3, ge=2)
    hold: Duration = 1800.0
    sustained_down: int = Field(10, ge=1)  # while held, down after this many failing probes


class FleetConfig(Strict):
    """`intelligence brownout`: at least `providers` distinct providers degraded or down at once."""

    providers: int = Field(2, ge=2)


_SECTIONS = (
    "errors",
    "rate_limit",
    "latency",
    "ttft",
    "throughput",
    "quality",
    "tool_calls",
    "model_change",
    "flap",
)


Seasonal = Literal["auto", "off"]


class DetectionOverride(Strict):
    """Per-target settings: only the keys given replace the defaults."""

    stale_after: float | None = Field(None, ge=1)
    false_alarms_per_month: float | None = Field(None, gt=0)
    seasonal: Seasonal | None = None
    errors: ErrorsConfig | None = None
    rate_limit: RateLimitConfig | None = None
    latency: MetricConfig | None = None
    ttft: MetricConfig | None = None
    throughput: ThroughputConfig | None = None
    quality: QualityConfig | None = None
    tool_calls: ToolCallsConfig | None = None
    model_change: ModelChangeConfig | None = None
    flap: FlapConfig | None = None


class DetectionConfig(Strict):
    """Detection settings; defaults suit probes every 30–60 s."""

    false_alarms_per_month: float = Field(1.0, gt=0)
    stale_after: float = Field(3.0, ge=1)  # in probe intervals
    # Timing baselines by hour of the day / of the week where the target's own healthy history
    # shows a cycle (monitor.detect.seasonal); `off`: one flat baseline, whatever the hour.
    seasonal: Seasonal = "auto"
    errors: ErrorsConfig = Field(default_factory=ErrorsConfig)
    rate_limit: RateLimitConfig = Field(default_factory=RateLimitConfig)
    latency: MetricConfig = Field(default_factory=MetricConfig)
    ttft: MetricConfig = Field(default_factory=lambda: MetricConfig(ratio=2.5))
    throughput: ThroughputConfig = Field(default_factory=ThroughputConfig)
    quality: QualityConfig = Field(default_factory=QualityConfig)
    tool_calls: ToolCallsConfig = Field(default_factory=ToolCallsConfig)
    model_change: ModelChangeConfig = Field(default_factory=ModelChangeConfig)
    flap: FlapConfig = Field(default_factory=FlapConfig)
    fleet: FleetConfig = Field(default_factory=FleetConfig)
    overrides: dict[str, DetectionOverride] = Field(default_factory=dict)
    # Regions that must say `down` for a target probed from several regions to be `down`
    # (default: half of the regions reporting, rounded up); see monitor.detect.regions.
    quorum: int | None = Field(None, ge=1)

    def for_target(self, target: str) -> DetectionConfig:
        """The settings for `target`: the defaults with every matching override merged, in order.
        A pattern is a glob on `PROVIDER/MODEL` or on the provider's name (`monitor.target.matches`)."""
        matching = [o for pattern, o in self.overrides.items() if matches(pattern, target)]
        if not matching:
            return self
        data: dict[str, Any] = self.model_dump(exclude={"overrides"})
        for override in matching:
            for key in ("stale_after", "false_alarms_per_month", "seasonal"):
                if key in override.model_fields_set and getattr(override, key) is not None:
                    data[key] = getattr(override, key)
            for section in _SECTIONS:
                part = getattr(override, section)
                if part is not None:
                    data[section].update(part.model_dump(exclude_unset=True))
        return DetectionConfig.model_validate(data)

    def threshold(
        self, interval_s: float, explicit: float | None, per_interval: float = 1
    ) -> float:
        """A CUSUM threshold in nats for `false_alarms_per_month` false alarms a target-month.

        For a CUSUM on log-likelihood ratios the mean time between false alarms is at least
        e^h probes (Lorden 1971). The allowance is split evenly among the target's CUSUMs
        (`CUSUMS`), so h = ln(probes per month × CUSUMS / allowed false alarms). A target probed
        with several canaries each interval (`per_interval`) makes that many more probes."""
        if explicit is not None:
            return explicit
        probes = MONTH_S / max(interval_s, 1.0) * max(per_interval, 1)
        return math.log(max(probes * CUSUMS / self.false_alarms_per_month, math.e))

    def drift_alpha(self, interval_s: float, canaries: int = 1) -> float:
        """The level of each drift test: the target's false-alarm allowance shared as among
        `CUSUMS` signals, Bonferroni-divided among a month's tests. A canary probed every
        `interval_s` is tested once per `window` answers (windows do not overlap), so a month
        holds MONTH_S / (interval × window) tests of it, and `canaries` drift canaries as many
        each: alpha = false_alarms_per_month / CUSUMS / (tests a month × canaries). At one probe
        a minute, a window of 20 and one canary: 1/3 / 2160 ≈ 1.5e-4."""
        mc = self.model_change
        if mc.alpha is not None:
            return mc.alpha
        tests = MONTH_S / max(interval_s, 1.0) / mc.window * max(canaries, 1)
        return min(0.05, self.false_alarms_per_month / CUSUMS / max(tests, 1.0))

    def leave_threshold(self, interval_s: float, per_interval: float = 1) -> float:
        """The evidence of health (nats) a rate signal needs to leave its alarm: the leaving
        test's mean time to a false all clear is at least e^h probes, so h = ln(probes in a
        3-hour brownout / 5 %), 8.2 nats at one probe a minute (8.9 at one every 30 s). Leaving
        is thus judged on the same footing as entering: by a test with a stated error rate."""
        probes = BROWNOUT_S / max(interval_s, 1.0) * max(per_interval, 1)
        return math.log(max(probes / FALSE_END, math.e))
