"""The scenario suite: each brownout kind, its goal (probe intervals, from issue 3) and the
information one probe carries about it (KL divergence from healthy), for Lorden's bound."""

from __future__ import annotations

import math
from dataclasses import dataclass

from bench.detection.traces import Healthy
from monitor.detect.stats import bernoulli_kl

PROBES_PER_MONTH = 30 * 24 * 60  # one probe a minute
# A CUSUM tuned to one false alarm per target-month: threshold ln(γ), γ = probes a month.
LOG_GAMMA = math.log(PROBES_PER_MONTH)


@dataclass(frozen=True)
class Kind:
    name: str
    effect: str  # the Event kind in traces.py
    value: float
    goal: float | None  # detection delay goal, in probe intervals
    kl: float  # nats per probe; math.inf when one probe is proof

    @property
    def lorden(self) -> float:
        """Lorden's bound: the least worst-case mean delay of any detector with that false-alarm
        rate, ln(γ) / KL (asymptotically attained by the CUSUM); never below one probe."""
        return max(1.0, LOG_GAMMA / self.kl) if self.kl > 0 else math.inf


def _gauss(log_shift: float, sigma: float) -> float:
    return log_shift * log_shift / (2 * sigma * sigma)


def kinds(h: Healthy, latency_sigma: float) -> list[Kind]:
    """Every kind, with its KL computed from the healthy noise of `h` (the latency spread is
    measured: latency is TTFT + generation, not exactly lognormal)."""
    p_err = h.error_rate
    answered = 1 - h.error_rate - h.rate_limit_rate
    return [
        Kind("outage", "outage", 0, 3, bernoulli_kl(1.0, p_err)),
        Kind("latency ×3", "latency", 3.0, 4, answered * _gauss(math.log(3), latency_sigma)),
        Kind("latency ×2", "latency", 2.0, 8, answered * _gauss(math.log(2), latency_sigma)),
        Kind("TTFT ×3", "ttft", 3.0, None, answered * _gauss(math.log(3), h.ttft_sigma)),
        Kind("throughput ½", "throughput", 0.5, None, answered * _gauss(math.log(2), h.tps_sigma)),
        Kind("errors 30 %", "errors", 0.30, 15, bernoulli_kl(0.30, p_err)),
        Kind("errors 10 %", "errors", 0.10, 60, bernoulli_kl(0.10, p_err)),
        Kind("rate limit 50 %", "rate_limit", 0.50, 8, bernoulli_kl(0.50, h.rate_limit_rate)),
        Kind("quality 97→75 %", "quality", 0.75, 50, answered * bernoulli_kl(0.25, h.wrong_rate)),
        Kind("model change", "model", 1.0, 1, math.inf),
        Kind("flapping", "flapping", 0, 3, bernoulli_kl(1.0, p_err)),
    ]
