"""`Figures`: the one mergeable aggregate of probe results that every surface reads.

Built from raw results (`add`) or from stored rollups (`from_rollup`, in `monitor.store.rollups`)
and merged by addition, so a report, the API, the page and the transfer switch get the same
figure whichever source they read. Each ratio is defined here once, over *counted* probes (all
but those the monitor itself cancelled):

- `answered_ratio`: answered (`ok` or `wrong_answer`) over counted: what a caller would have got
  an answer for (the API's and the switch's `success_ratio`);
- `ok_ratio`: `ok` (right answer, in time) over counted (the report's probe success rate);
- `probe_availability`: 1 − provider failures over counted (rate limits and cancels are not
  outages): the *probe-share* availability. The report's *time-weighted* availability, from the
  status history, is another figure (`time_availability` there) and is never called plain
  "availability";
- `pass_ratio`: canary checks passed over checked; `rate_limited_ratio`: 429s over counted.

Timings are of answered probes only (a timeout's latency is the timeout), kept as sketches
(`monitor.sketch`, 1 %), with nearest-rank percentiles.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from monitor.result import Outcome, ProbeResult
from monitor.sketch import Sketch

_ANSWERED = frozenset(o.value for o in Outcome if o.answered)
_FAILING = frozenset(o.value for o in Outcome if o.provider_failure)


@dataclass(slots=True)
class Figures:
    """Counts, cost and timing sketches of a set of probes. Ratios are None when nothing counts."""

    probes: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    quality_checked: int = 0
    quality_passed: int = 0
    cost_usd: float = 0.0
    ttft_ms: Sketch = field(default_factory=Sketch)
    latency_ms: Sketch = field(default_factory=Sketch)
    tokens_per_s: Sketch = field(default_factory=Sketch)
    tokens_per_s_sum: float = 0.0
    tokens_per_s_n: int = 0
    first_ts: datetime | None = None
    last_ts: datetime | None = None
    last_outcome: str | None = None

    def add(self, result: ProbeResult) -> None:
        self.probes += 1
        self.outcomes[result.outcome.value] += 1
        if result.quality_ok is not None:
            self.quality_checked += 1
            self.quality_passed += int(result.quality_ok)
        if result.cost_usd:
            self.cost_usd += result.cost_usd
        if result.outcome.answered:
            if result.ttft_ms is not None:
                self.ttft_ms.add(result.ttft_ms)
            if result.latency_ms is not None:
                self.latency_ms.add(result.latency_ms)
            if result.tokens_per_s is not None:
                self.tokens_per_s.add(result.tokens_per_s)
                self.tokens_per_s_sum += result.tokens_per_s
                self.tokens_per_s_n += 1
        if self.first_ts is None or result.ts < self.first_ts:
            self.first_ts = result.ts
        if self.last_ts is None or result.ts >= self.last_ts:
            self.last_ts, self.last_outcome = result.ts, result.outcome.value

    def merge(self, other: Figures) -> Figures:
        """Add `other` into these figures (in place) and return them."""
        self.probes += other.probes
        outcomes = self.outcomes
        for outcome, n in other.outcomes.items():  # Counter.update, without its type checks
            outcomes[outcome] += n
        self.quality_checked += other.quality_checked
        self.quality_passed += other.quality_passed
        self.cost_usd += other.cost_usd
        self.ttft_ms.merge(other.ttft_ms)
        self.latency_ms.merge(other.latency_ms)
        self.tokens_per_s.merge(other.tokens_per_s)
        self.tokens_per_s_sum += other.tokens_per_s_sum
        self.tokens_per_s_n += other.tokens_per_s_n
        if other.first_ts is not None and (self.first_ts is None or other.first_ts < self.first_ts):
            self.first_ts = other.first_ts
        if other.last_ts is not None and (self.last_ts is None or other.last_ts >= self.last_ts):
            self.last_ts, self.last_outcome = other.last_ts, other.last_outcome
        return self

    @classmethod
    def total(cls, items: Iterable[Figures]) -> Figures:
        """`Figures()` with every one of `items` merged in, in order: the same figures as one
        `merge` at a time (the same float additions in the same order), in one pass."""
        out = cls()
        outcomes = out.outcomes
        probes = checked = passed = tps_n = 0
        cost = tps_sum = 0.0
        ttft: list[Sketch] = []
        latency: list[Sketch] = []
        tps: list[Sketch] = []
        first: datetime | None = None
        last: datetime | None = None
        last_outcome: str | None = None
        for f in items:
            probes += f.probes
            for outcome, n in f.outcomes.items():
                outcomes[outcome] += n
            checked += f.quality_checked
            passed += f.quality_passed
            cost += f.cost_usd
            ttft.append(f.ttft_ms)
            latency.append(f.latency_ms)
            tps.append(f.tokens_per_s)
            tps_sum += f.tokens_per_s_sum
            tps_n += f.tokens_per_s_n
            if f.first_ts is not None and (first is None or f.first_ts < first):
                first = f.first_ts
            if f.last_ts is not None and (last is None or f.last_ts >= last):
                last, last_outcome = f.last_ts, f.last_outcome
        out.probes, out.quality_checked, out.quality_passed = probes, checked, passed
        out.cost_usd, out.tokens_per_s_sum, out.tokens_per_s_n = cost, tps_sum, tps_n
        out.ttft_ms, out.latency_ms = Sketch.total(ttft), Sketch.total(latency)
        out.tokens_per_s = Sketch.total(tps)
        out.first_ts, out.last_ts, out.last_outcome = first, last, last_outcome
        return out

    # --- counts -----------------------------------------------------------------------------

    @property
    def counted(self) -> int:
        """Probes that say something about the provider: all but those the monitor cancelled."""
        return self.probes - self.outcomes[Outcome.CANCELLED.value]

    @property
    def answered(self) -> int:
        return sum(n for o, n in self.outcomes.items() if o in _ANSWERED)

    @property
    def failures(self) -> int:
        """Probes that failed through the provider's fault (not rate limits, not cancels)."""
        return sum(n for o, n in self.outcomes.items() if o in _FAILING)

    # --- the ratios, each defined once ------------------------------------------------------

    def _share(self, n: int) -> float | None:
        return n / self.counted if self.counted > 0 else None

    @property
    def answered_ratio(self) -> float | None:
        """Answered (`ok` or `wrong_answer`) over counted probes."""
        return self._share(self.answered)

    @property
    def ok_ratio(self) -> float | None:
        """`ok` over counted probes."""
        return self._share(self.outcomes[Outcome.OK.value])

    @property
    def probe_availability(self) -> float | None:
        """1 − provider failures over counted probes: the probe-share availability."""
        share = self._share(self.failures)
        return None if share is None else 1.0 - share

    @property
    def rate_limited_ratio(self) -> float | None:
        return self._share(self.outcomes[Outcome.RATE_LIMITED.value])

    @property
    def pass_ratio(self) -> float | None:
        """Canary checks passed over answers checked."""
        return self.quality_passed / self.quality_checked if self.quality_checked else None

    @property
    def tokens_per_s_mean(self) -> float | None:
        return self.tokens_per_s_sum / self.tokens_per_s_n if self.tokens_per_s_n else None

    # the report's names for two of them
    @property
    def success_rate(self) -> float | None:
        """The report's probe success rate: `ok_ratio`."""
        return self.ok_ratio

    @property
    def rate_limited_share(self) -> float | None:
        return self.rate_limited_ratio
