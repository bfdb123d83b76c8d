"""The scenario suite: each brownout kind, its goal (probe intervals, from issue 3) and the
information one probe carries about it (KL divergence from healthy), for Lorden's bound."""

from __future__ import annotations

import math
from dataclasses import dataclass

from bench.detection.traces import Event, Healthy, generate, mean_logprobs
from monitor.detect.stats import bernoulli_kl

PROBES_PER_MONTH = 30 * 24 * 60  # one probe a minute
LONG_EVERY = 5  # minutes between long-prompt probes in the long-prompt kinds
DAILY_CYCLE = 0.3  # log-amplitude of the daily cycle of the "daily cycle" traces
# A CUSUM tuned to one false alarm per target-month: threshold ln(γ), γ = probes a month.
LOG_GAMMA = math.log(PROBES_PER_MONTH)


@dataclass(frozen=True)
class Kind:
    name: str
    effect: str  # the Event kind in traces.py
    value: float
    goal: float | None  # detection delay goal, in probe intervals
    kl: float  # nats per probe; math.inf when one probe is proof
    length: int | None = None  # probes of brownout; None: the run's default (600)
    replicas: int | None = None  # None: the run's --replicas
    one_incident: float | None = None  # goal: the share of brownouts that stay one incident
    warmup: int | None = None  # healthy probes before the brownout; None: the run's (1440)
    diurnal: float | None = None  # the daily cycle's log-amplitude; None: the default (±5 %)
    long_every: int = 0  # a long-prompt probe every that many minutes (its own tier)
    at_peak: int | None = None  # the day's peak this many probes into the brownout

    @property
    def lorden(self) -> float:
        """Lorden's bound: the least worst-case mean delay of any detector with that false-alarm
        rate, ln(γ) / KL (asymptotically attained by the CUSUM); never below one probe."""
        return max(1.0, LOG_GAMMA / self.kl) if self.kl > 0 else math.inf


FIGURES = {"latency": "latency_ms", "ttft": "ttft_ms", "throughput": "tokens_per_s"}


def measured_kl(effect: str, value: float, n: int = 100_000, seed: int = 99) -> float:
    """KL(brownout ‖ healthy) of the figure `effect` names, per probe, measured on the trace
    generator's own output (log values, a 160-bin histogram, half a count added to every bin):
    the heavy tail beyond the lognormal (freak probes, the daily cycle) is in it, as it is in
    what any detector sees. Unanswered probes carry no figure and count as zero information."""
    figure = FIGURES[effect]
    healthy = generate("kl/healthy", n, seed=seed).results
    shifted = generate("kl/shifted", n, seed=seed + 1, events=[Event(effect, 0, n, value)]).results
    xs0 = [math.log(getattr(r, figure)) for r in healthy if r.outcome.answered]
    xs1 = [math.log(getattr(r, figure)) for r in shifted if r.outcome.answered]
    low, high = min(xs0 + xs1), max(xs0 + xs1)
    bins = 160
    width = (high - low) / bins or 1.0
    c0, c1 = [0.5] * bins, [0.5] * bins
    for x in xs0:
        c0[min(bins - 1, int((x - low) / width))] += 1
    for x in xs1:
        c1[min(bins - 1, int((x - low) / width))] += 1
    t0, t1 = sum(c0), sum(c1)
    kl = sum(b / t1 * math.log((b / t1) / (a / t0)) for a, b in zip(c0, c1, strict=True))
    return kl * len(xs1) / n


def logprob_kl(effect: str, value: float, h: Healthy) -> float:
    """KL per probe of a shift of the mean logprob vector under Gaussian serving noise (sd
    `h.logprob_noise` per token): ‖Δ‖² / (2σ²), on the test's own vectors (a token a probe does
    not list takes the probe's lowest logprob; the clipping at 0 is ignored)."""
    before, after = mean_logprobs(None, 0.0), mean_logprobs(effect, value)
    tokens = set(before) | set(after)
    floor_b, floor_a = min(before.values()), min(after.values())
    delta = [after.get(t, floor_a) - before.get(t, floor_b) for t in tokens]
    return sum(d * d for d in delta) / (2 * h.logprob_noise**2)


def kinds(h: Healthy) -> list[Kind]:
    """Every kind, with the information per probe: exact for rates, measured for figures."""
    p_err = h.error_rate
    answered = 1 - h.error_rate - h.rate_limit_rate
    return [
        Kind("outage", "outage", 0, 3, bernoulli_kl(1.0, p_err)),
        Kind("latency ×3", "latency", 3.0, 4, measured_kl("latency", 3.0)),
        Kind("latency ×2", "latency", 2.0, 8, measured_kl("latency", 2.0)),
        Kind("TTFT ×3", "ttft", 3.0, None, measured_kl("ttft", 3.0)),
        Kind("throughput ½", "throughput", 0.5, None, measured_kl("throughput", 0.5)),
        Kind("errors 30 %", "errors", 0.30, 15, bernoulli_kl(0.30, p_err)),
        Kind("errors 10 %", "errors", 0.10, 60, bernoulli_kl(0.10, p_err)),
        Kind("rate limit 50 %", "rate_limit", 0.50, 8, bernoulli_kl(0.50, h.rate_limit_rate)),
        Kind("quality 97→75 %", "quality", 0.75, 50, answered * bernoulli_kl(0.25, h.wrong_rate)),
        Kind("model change", "model", 1.0, 1, math.inf),
        # Other weights under the same name: tested once per window of 20 after a reference of
        # 30, so the goal is two windows; Lorden's bound is for a detector that looks at every
        # probe, which a windowed permutation test does not.
        Kind("re-quantised, same name", "weights", 1.0, 40, logprob_kl("weights", 1.0, h)),
        Kind("re-quantised ×0.5, same name", "weights", 0.5, None, logprob_kl("weights", 0.5, h)),
        Kind("swapped model, same name", "swap", 1.0, 40, logprob_kl("swap", 1.0, h)),
        Kind(
            "tool calls 2→10 % failing",
            "tool_calls",
            0.10,
            None,
            answered * bernoulli_kl(0.10, h.tool_fail_rate),
        ),
        Kind(
            "tool calls 2→30 % failing",
            "tool_calls",
            0.30,
            None,
            answered * bernoulli_kl(0.30, h.tool_fail_rate),
        ),
        Kind("flapping", "flapping", 0, 3, bernoulli_kl(1.0, p_err)),
        # Only the long prompts (`long_10k`, one every LONG_EVERY minutes, their own tier) get
        # three times slower: the information is a TTFT ×3 per long probe, spread over the
        # minutes between them (the delay counts minutes).
        Kind(
            "long prompts ×3 only",
            "long_latency",
            3.0,
            None,
            measured_kl("ttft", 3.0) / LONG_EVERY,
            long_every=LONG_EVERY,
        ),
        # A daily cycle of ±0.3 in log (peak 1.8× the trough) and a slowdown ×2 in the 4 peak
        # hours, after 3 days of history (so the hour-of-day baseline is on).
        Kind(
            "daily cycle, latency ×2 at peak",
            "latency",
            2.0,
            None,
            measured_kl("latency", 2.0),
            length=240,
            warmup=3 * 1440,
            diurnal=DAILY_CYCLE,
            at_peak=120,
        ),
    ]


def episodes(h: Healthy, replicas: int) -> list[Kind]:
    """Sustained brownouts of 3 hours (180 probes) in many replicas: does each stay one
    incident from detection to its end, and how soon is the end seen?"""
    p_err = h.error_rate
    return [
        Kind(
            "errors 10 %, 3 h", "errors", 0.10, 60, bernoulli_kl(0.10, p_err), 180, replicas, 0.99
        ),
        Kind(
            "errors 30 %, 3 h", "errors", 0.30, 15, bernoulli_kl(0.30, p_err), 180, replicas, 0.99
        ),
    ]
