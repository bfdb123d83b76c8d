"""Signals on rates of events: provider failures (`errors`), 429s (`rate_limit`) and wrong answers
(`quality`), and failed tool calls (`tool_calls`). Each runs a Bernoulli CUSUM of "the rate rose to p1" against the target's healthy rate
p0, learned from its own history (shrunk towards a configured prior, clamped to a sane range).

Samples join the healthy history only after a short quarantine, and only while the signal is quiet
and its evidence is below half the threshold, so the first probes of a brownout never teach the
baseline that the brownout is normal.

Leaving is a test on the same footing as entering: while the alarm is on, a mirror CUSUM weighs
"back to the healthy rate p0" against "the brownout goes on at its own rate" — the rate seen since
the alarm (its 95 % lower confidence bound, never below p1) — and the alarm goes off when that
evidence reaches the leaving threshold (`leave`, derived so that a 3-hour brownout ends early in
well under 1 % of cases; see `DetectionConfig.leave_threshold`). A run of clean probes that a
brownout produces by chance is not enough; a brownout at 30 % ends after a few dozen clean
probes, one at 10 % after about 80, an outage after a handful.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from monitor.config.detection import ErrorsConfig, QualityConfig, RateLimitConfig, ToolCallsConfig
from monitor.detect.signal import Signal, rounded
from monitor.detect.stats import Cusum, RateWindow, bernoulli_llr, clamp, lower_bound
from monitor.detect.types import Reason, Status
from monitor.result import Outcome, ProbeResult

QUARANTINE = 10  # samples held back before they may join the healthy history
RECENT = 30  # samples behind the "rate now" figure
_PENDING_MASK = (1 << QUARANTINE) - 1


class _RateSignal(Signal):
    """A Bernoulli CUSUM with a learned healthy rate. Subclasses say which results count.

    Its newest samples (`recent_size` of them, behind the "rate now" figure) and those in
    quarantine are bits of an int each (1: an event; the newest lowest), with their count: a
    few dozen bytes where two deques took 1.2 KB or more."""

    __slots__ = (
        "_due",
        "_incident_events",
        "_incident_samples",
        "_llr_event",
        "_llr_none",
        "_pending",
        "_pending_n",
        "_recent",
        "_recent_n",
        "cap",
        "cusum",
        "floor",
        "healthy",
    )

    recent_size = RECENT  # a subclass may keep more; its mask follows (__init_subclass__)
    _recent_mask = (1 << RECENT) - 1

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._recent_mask = (1 << cls.recent_size) - 1

    def __init__(
        self, threshold: float, clear: float, prior: float, floor: float, cap: float, window: int
    ) -> None:
        self.cusum = Cusum(threshold, clear)
        self.healthy = RateWindow(window, prior, weight=200)
        self.floor, self.cap = floor, cap
        self._recent = self._recent_n = 0
        self._pending = self._pending_n = 0
        self._llr_event = self._llr_none = 0.0
        self._due = 0  # samples before the llrs are worked out again (0: at the next one)
        self._incident_events = self._incident_samples = 0  # since the alarm went on

    def _start_incident(self) -> None:
        """The alarm went on: the brownout's own rate is counted from here."""
        self._incident_events = self._incident_samples = 0

    def _count(self, event: bool) -> None:
        self._incident_events += event
        self._incident_samples += 1

    def leave_llr(self, event: bool) -> float:
        """Log-likelihood ratio of "the brownout goes on at its own rate" against "back to p0"
        for one sample: the rate is the lower confidence bound of the rate seen since the alarm,
        at least p1 (the smallest brownout this signal is tuned to), at most 0.99."""
        p0 = self.p0
        seen = lower_bound(self._incident_events, self._incident_samples)
        rate = clamp(max(self.p1(p0), seen), p0 * 1.01, 0.99)
        return bernoulli_llr(event, p0, rate)

    @property
    def p0(self) -> float:
        return clamp(self.healthy.rate, self.floor, self.cap)

    def p1(self, p0: float) -> float:
        raise NotImplementedError

    def _remember(self, event: bool) -> None:
        """One more of the newest samples; the oldest leaves once there are `recent_size`."""
        self._recent = (self._recent << 1 | event) & self._recent_mask
        if self._recent_n < self.recent_size:
            self._recent_n += 1

    def _feed(self, event: bool) -> None:
        # The llrs of an event and of a non-event, worked out every 20 samples: p0 moves slowly.
        due = self._due
        if not due:
            p0 = self.p0
            p1 = self.p1(p0)
            self._llr_event = bernoulli_llr(True, p0, p1)
            self._llr_none = bernoulli_llr(False, p0, p1)
            due = 20
        self._due = due - 1
        cusum = self.cusum
        leave = None
        if cusum.alarm:
            self._count(event)
            leave = self.leave_llr(event)
        self._remember(event)
        if cusum.update(self._llr_event if event else self._llr_none, leave) and cusum.alarm:
            self._pending = self._pending_n = 0
            self._start_incident()
        self._learn(event)

    def _learn(self, event: bool) -> None:
        """Into quarantine; the oldest of QUARANTINE + 1 leaves it, into the healthy history if
        the signal is quiet."""
        pending = self._pending << 1 | event
        if self._pending_n < QUARANTINE:
            self._pending = pending
            self._pending_n += 1
            return
        self._pending = pending & _PENDING_MASK
        cusum = self.cusum
        if not cusum.alarm and cusum.s < cusum.threshold / 2:
            self.healthy.add(pending >> QUARANTINE == 1)  # the oldest leaves quarantine

    @property
    def recent_rate(self) -> float | None:
        n = self._recent_n
        return self._recent.bit_count() / n if n else None

    def relearn(self) -> None:
        self._due = 0
        self.healthy.clear()
        self._pending = self._pending_n = 0
        self.cusum.reset()
        self._start_incident()


class ErrorsSignal(_RateSignal):
    """Provider failures over answered + failed probes (429s and cancels are not counted).

    Two CUSUMs: `degraded` is tuned to `degraded_rate`; `down` to `down_rate` (nearly all fail)
    against the healthy rate, or against the current rate while already degraded by a brownout,
    so a target that fails 30 % of the time needs a long run of failures, not three, to be called
    down. While down,
    the degraded CUSUM rests (the outage explains the failures); leaving `down` lands in
    `degraded` until the leaving test says the failures stopped (`after_down_clear` nats, half
    the leaving threshold by default, for an outage that began its incident and until the next
    failure; the whole threshold otherwise, as for a burst inside a brownout; a dozen
    good probes after an outage of ten failed ones), so a brownout that
    began with a run of failures stays one incident, and the end of an outage is confirmed.

    `down` also needs the run of failures to span half an interval or more: several canaries of
    one round failing together (one network blip) are one event, not an outage; the next round
    failing too makes it one.
    """

    __slots__ = (
        "_after_down",
        "_fresh_down",
        "_run_start",
        "after_down_leave",
        "cfg",
        "down",
        "down_run",
        "leave",
        "min_span",
        "run",
    )

    reason = Reason.ERRORS

    def __init__(
        self, cfg: ErrorsConfig, threshold: float, interval_s: float = 60.0, leave: float = 8.0
    ) -> None:
        self.leave = cfg.clear or leave
        # A brownout seldom begins with a run of failures: after one, half the evidence will do.
        self.after_down_leave = cfg.after_down_clear or self.leave / 2
        super().__init__(
            threshold,
            self.leave,
            cfg.expected_rate,
            cfg.expected_rate,
            cfg.max_expected_rate,
            window=5000,
        )
        self.cfg = cfg
        self.down = Cusum(threshold, cfg.down_clear)
        self.down_run = 0  # probes in a row with the down alarm on
        self.min_span = interval_s / 2
        self._run_start: datetime | None = None  # first failure of the current run
        self._after_down = False  # degraded because an outage just ended
        self._fresh_down = False  # the outage began its incident (no brownout before it)
        self.run = 0  # failures in a row

    def p1(self, p0: float) -> float:
        return max(self.cfg.degraded_rate, 3 * p0)

    def observe(self, result: ProbeResult) -> None:
        if result.outcome in (Outcome.RATE_LIMITED, Outcome.CANCELLED):
            return
        failed = result.outcome.provider_failure
        p0 = self.p0
        reference = p0
        if self.cusum.alarm and not self._after_down:
            reference = clamp(self.recent_rate or p0, p0, 0.5)
        llr = bernoulli_llr(failed, reference, self.cfg.down_rate)
        if not failed:
            self._run_start, self.run = None, 0
        else:
            self.run += 1
            if self._run_start is None:
                self._run_start = result.ts
        span = (result.ts - self._run_start).total_seconds() if self._run_start else 0.0
        if not self.down.alarm and span < self.min_span:
            # Gather the evidence, but one round of canaries alone cannot make an outage.
            self.down.s = min(max(0.0, self.down.s + llr), self.down.threshold * 0.999)
            changed = False
        else:
            changed = self.down.update(llr)
        if changed and self.down.alarm:
            # Only an outage that begins an incident may end on half the evidence; one inside a
            # brownout is a burst of it.
            self._fresh_down = not self.cusum.alarm
            if self._fresh_down:  # an incident begins with this run of failures
                self._incident_events = self._incident_samples = self.run - 1
            self.cusum.reset()
            self._pending = self._pending_n = 0
            self._after_down = False
        elif changed:
            # Out of `down` into `degraded`, until the leaving test says the failures stopped.
            self.cusum.alarm, self.cusum.s, self.cusum.r = True, self.cusum.threshold, 0.0
            self.cusum.clear = self.after_down_leave if self._fresh_down else self.leave
            self._after_down = True
        self.down_run = self.down_run + 1 if self.down.alarm else 0
        if self.down.alarm:
            self._remember(failed)
            self._count(failed)
            return
        if failed and self._after_down:
            # Failing again after the outage: a brownout may go on, to be left on full evidence.
            self.cusum.clear = self.leave
        self._feed(failed)
        if not self.cusum.alarm:
            self.cusum.clear, self._after_down = self.leave, False

    @property
    def level(self) -> Status | None:
        if self.down.alarm:
            return Status.DOWN
        return Status.DEGRADED if self.cusum.alarm else None

    def details(self) -> dict[str, Any]:
        return {
            "rate": rounded(self.recent_rate),
            "baseline_rate": rounded(self.p0),
            "window": self._recent_n,
            "failing_in_a_row": self.run,
        }

    def relearn(self) -> None:
        super().relearn()
        self.down.reset()


class RateLimitSignal(_RateSignal):
    """429s over every probe that was not cancelled."""

    __slots__ = ("cfg",)
    reason = Reason.RATE_LIMIT

    def __init__(self, cfg: RateLimitConfig, threshold: float, leave: float = 8.0) -> None:
        super().__init__(
            threshold,
            cfg.clear or leave,
            cfg.expected_rate,
            cfg.expected_rate,
            cfg.max_expected_rate,
            window=5000,
        )
        self.cfg = cfg

    def p1(self, p0: float) -> float:
        return max(self.cfg.degraded_rate, 3 * p0)

    def observe(self, result: ProbeResult) -> None:
        if not self.cfg.enabled or result.outcome is Outcome.CANCELLED:
            return
        self._feed(result.outcome is Outcome.RATE_LIMITED)

    @property
    def level(self) -> Status | None:
        return Status.DEGRADED if self.cusum.alarm else None

    def details(self) -> dict[str, Any]:
        return {
            "rate": rounded(self.recent_rate),
            "baseline_rate": rounded(self.p0),
            "window": self._recent_n,
        }


class QualitySignal(_RateSignal):
    """Wrong answers among answered probes that were checked (`quality_ok` is not None).

    One wrong answer moves the CUSUM by ln(p1/p0) (about 1.8 nats at 97 %), far below the ~11
    needed; a sustained fall from 97 % to 75 % gains about 0.33 nats a probe."""

    __slots__ = ("cfg",)
    reason = Reason.QUALITY
    recent_size = 50

    def __init__(self, cfg: QualityConfig, threshold: float, leave: float = 8.0) -> None:
        prior = 1.0 - cfg.expected_pass_rate
        cap = 1.0 - cfg.min_pass_rate
        super().__init__(threshold, cfg.clear or leave, prior, 0.01, cap, window=2000)
        self.cfg = cfg

    def p1(self, p0: float) -> float:
        return min(0.99, p0 + self.cfg.drop)

    def observe(self, result: ProbeResult) -> None:
        if not self.cfg.enabled or result.quality_ok is None or not result.outcome.answered:
            return
        if result.tool_check is not None:
            return  # a tool canary's probe: the tool_calls signal's
        self._feed(not result.quality_ok)

    @property
    def level(self) -> Status | None:
        return Status.DEGRADED if self.cusum.alarm else None

    def details(self) -> dict[str, Any]:
        wrong = self.recent_rate
        return {
            "pass_rate": rounded(None if wrong is None else 1.0 - wrong),
            "baseline_pass_rate": rounded(1.0 - self.p0),
            "window": self._recent_n,
        }


class ToolCallsSignal(QualitySignal):
    """Failed tool calls among tool canaries' answered probes (`tool_check` set), with their own
    healthy rate: a provider whose tool calls start failing (10 % of calls failing the schema)
    is seen here, not diluted among the text canaries. `details` adds the words of the recent
    failures (`{"schema_mismatch": 4}`): those among the newest `recent_size` samples, whose
    bits say which failed, so only the words of the failures are kept, oldest first."""

    __slots__ = ("_failures",)

    reason = Reason.TOOL_CALLS

    def __init__(self, cfg: ToolCallsConfig, threshold: float, leave: float = 8.0) -> None:
        super().__init__(cfg, threshold, leave)
        self._failures: list[str] = []

    def observe(self, result: ProbeResult) -> None:
        kind = result.tool_check
        if not self.cfg.enabled or kind is None or not result.outcome.answered:
            return
        size = self.recent_size
        if self._recent_n == size and self._recent >> (size - 1):
            del self._failures[0]  # the oldest sample leaves: a failure
        failed = kind != "ok"
        if failed:
            self._failures.append(kind)
        self._feed(failed)

    def details(self) -> dict[str, Any]:
        failures: dict[str, int] = {}
        for kind in self._failures:
            failures[kind] = failures.get(kind, 0) + 1
        return {**super().details(), "failures": dict(sorted(failures.items()))}
