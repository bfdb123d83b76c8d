"""What a report needs from probe results, as a mergeable aggregate.

One `ProbeAggregate` per target and day is the unit the report adds up; it can be filled from raw
results (`add`) or from stored rollups (`merge` of converted rollup rows), so the report does not
care which one the data came from.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from monitor.reports.stats import Sketch
from monitor.result import Outcome, ProbeResult


@dataclass(slots=True)
class ProbeAggregate:
    """Counts, cost and latency sketches of a set of probes.

    Latency, TTFT and throughput are taken from answered probes only (`ok`, `wrong_answer`): a
    timeout has no meaningful latency. The canary check counts probes whose `quality_ok` is set.
    """

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

    def merge(self, other: ProbeAggregate) -> None:
        self.probes += other.probes
        self.outcomes.update(other.outcomes)
        self.quality_checked += other.quality_checked
        self.quality_passed += other.quality_passed
        self.cost_usd += other.cost_usd
        self.ttft_ms.merge(other.ttft_ms)
        self.latency_ms.merge(other.latency_ms)
        self.tokens_per_s.merge(other.tokens_per_s)
        self.tokens_per_s_sum += other.tokens_per_s_sum
        self.tokens_per_s_n += other.tokens_per_s_n

    @property
    def tokens_per_s_mean(self) -> float | None:
        return self.tokens_per_s_sum / self.tokens_per_s_n if self.tokens_per_s_n else None

    @property
    def counted(self) -> int:
        """Probes that count for the success rate: all but those the monitor itself cancelled."""
        return self.probes - self.outcomes[Outcome.CANCELLED.value]

    @property
    def success_rate(self) -> float | None:
        """Share of counted probes whose outcome is `ok`."""
        return self.outcomes[Outcome.OK.value] / self.counted if self.counted else None

    @property
    def rate_limited_share(self) -> float | None:
        return self.outcomes[Outcome.RATE_LIMITED.value] / self.counted if self.counted else None
