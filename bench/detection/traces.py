"""Labelled synthetic probe traces: a healthy target with realistic noise, and brownouts of each kind.

Healthy noise (per probe, one a minute):
- TTFT lognormal (median 450 ms, log-sd 0.40), generation at a lognormal tokens/s (median 70,
  log-sd 0.30) for 12 tokens; latency = TTFT + generation; a gentle daily cycle (±5 %) and 0.3 %
  freak probes 4× slower (the heavy tail beyond the lognormal);
- 0.5 % provider failures (timeouts, 5xx, 529s, broken streams), 0.2 % 429s, 0.05 % cancels;
- 3 % wrong answers; the provider rotates between two system fingerprints;
- the canary asks for the first token's top-5 logprobs (`logprobs: 5`): fixed values per token
  plus serving jitter (sd 0.15 nats each, drawn from a random stream of their own, so the other
  figures are the draws they were before logprobs existed).

A trace with long prompts (`long_every`) also has, every `long_every` minutes (20 s after the
short probe), a probe of a long-prompt canary (`long_10k`, its own tier): TTFT `LONG_TTFT` times
the short one's (the prefill of 10k tokens), drawn from a random stream of its own so the short
probes are the draws they were without it. A `long_latency` event slows the prefill of those
long probes alone (TTFT × its value, and the latency with it); the short canary stays healthy.

A tool-canary trace (`tools=True`, or any `tool_calls` event) has a tool canary's probes
instead: 2 % of the answered calls fail (`tool_check`: schema mismatches, invalid JSON, no call,
in the proportions 2 : 1 : 1), and a `tool_calls` event makes that share of calls fail the
schema (a provider whose tool calls start failing validation).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from monitor.result import Outcome, ProbeResult

START = datetime(2026, 1, 5, tzinfo=UTC)
INTERVAL = 60.0
LONG_CANARY = "long_10k"
LONG_TTFT = 10.0  # a long prompt's TTFT, in short ones
FAILURES = [
    Outcome.SERVER_ERROR,
    Outcome.OVERLOADED,
    Outcome.TIMEOUT,
    Outcome.STREAM_ERROR,
    Outcome.CONNECTION_ERROR,
]


@dataclass(frozen=True)
class Healthy:
    ttft_ms: float = 450.0
    ttft_sigma: float = 0.40
    tps: float = 70.0
    tps_sigma: float = 0.30
    tokens: int = 12
    diurnal: float = 0.05
    freak_rate: float = 0.003
    freak_factor: float = 4.0
    error_rate: float = 0.005
    rate_limit_rate: float = 0.002
    cancel_rate: float = 0.0005
    wrong_rate: float = 0.03
    tool_fail_rate: float = 0.02
    model: str = "sim-model-2026-01-01"
    fingerprints: tuple[str, ...] = ("fp_a1", "fp_b2")
    logprob_noise: float = 0.15


# The first token's top logprobs of the healthy model, what other weights (a re-quantisation:
# each moves by a fixed amount, scaled by the event's value) make of them, and another model
# answering under the same name (other alternatives, the same answer).
LOGPROBS = {"391": -0.05, " 391": -3.2, "391.": -4.0, "Answer": -5.5, "The": -6.1}
REQUANTISED = {"391": -0.02, " 391": 0.10, "391.": -0.10, "Answer": 0.12, "The": -0.08}
SWAPPED = {"391": -0.02, " 391": -4.5, "The": -5.0, "**": -5.8, "3": -6.5}


def mean_logprobs(kind: str | None, value: float) -> dict[str, float]:
    """The noiseless top logprobs under an event `kind` ("weights", "swap") or none."""
    if kind == "swap":
        return dict(SWAPPED)
    if kind == "weights":
        return {t: min(0.0, lp + value * REQUANTISED[t]) for t, lp in LOGPROBS.items()}
    return dict(LOGPROBS)


@dataclass
class Event:
    """A brownout from probe `start` for `length` probes. `kind` is one of KINDS' keys' effects:
    latency, ttft, throughput (factors), errors, rate_limit (rates), quality (pass rate),
    model, outage, flapping, weights (other weights behind the name: `REQUANTISED` × value),
    swap (another model behind the name), tool_calls (the share of tool calls failing the
    schema), long_latency (the long-prompt canary's TTFT × value, its latency with it)."""

    kind: str
    start: int
    length: int
    value: float = 0.0

    def covers(self, i: int) -> bool:
        return self.start <= i < self.start + self.length


@dataclass
class Trace:
    target: str
    results: list[ProbeResult]
    events: list[Event] = field(default_factory=list)


def generate(
    target: str,
    n: int,
    seed: int,
    events: list[Event] | None = None,
    healthy: Healthy | None = None,
    start: datetime = START,
    tools: bool | None = None,
    long_every: int = 0,
    phase: float | None = None,
) -> Trace:
    """`n` probes of `target`, one every minute (±2 s jitter) from `start`, with `events` applied.
    `tools`: a tool canary's probes (None: when an event is about tool calls). `long_every`: a
    long-prompt probe every that many minutes too (0: none). `phase`: of the daily cycle, in
    radians (None: drawn; the peak is where 2π·i/1440 + phase = π/2)."""
    h = healthy or Healthy()
    rng = random.Random(seed)
    lrng = random.Random(seed * 7919 + 17)  # the logprobs' own stream
    events = events or []
    if tools is None:
        tools = any(e.kind == "tool_calls" for e in events)
    provider, _, model = target.partition("/")
    flap_down = _flapping_schedule(events, rng)
    out: list[ProbeResult] = []
    drawn = rng.random() * 2 * math.pi
    phase = drawn if phase is None else phase
    long_rng = random.Random(seed * 104_729 + 3)  # the long prompts' own stream
    for i in range(n):
        if long_every and i % long_every == 0:
            out.append(_long_probe(i, start, target, provider, model, h, phase, events, long_rng))
        ts = start + timedelta(milliseconds=round(1000 * (i * INTERVAL + rng.uniform(-2, 2))))
        active = [e for e in events if e.covers(i)]
        kinds = {e.kind: e.value for e in active}
        error_rate, wrong_rate, limit_rate = h.error_rate, h.wrong_rate, h.rate_limit_rate
        if "errors" in kinds:
            error_rate = kinds["errors"]
        if "rate_limit" in kinds:
            limit_rate = kinds["rate_limit"]
        if "quality" in kinds:
            wrong_rate = 1.0 - kinds["quality"]
        if tools:
            wrong_rate = kinds.get("tool_calls", h.tool_fail_rate)
        if "outage" in kinds or i in flap_down:
            error_rate, limit_rate = 1.0, 0.0
        canary = "weather_tool" if tools else "arithmetic"
        common = dict(ts=ts, target=target, provider=provider, model=model, canary=canary)
        u = rng.random()
        if u < h.cancel_rate:
            out.append(ProbeResult(outcome=Outcome.CANCELLED, **common))  # type: ignore[arg-type]
            continue
        if rng.random() < limit_rate:
            out.append(
                ProbeResult(outcome=Outcome.RATE_LIMITED, http_status=429, error="429", **common)
            )  # type: ignore[arg-type]
            continue
        if rng.random() < error_rate:
            outcome = rng.choice(FAILURES)
            out.append(
                ProbeResult(
                    outcome=outcome,
                    http_status=_http(outcome),
                    latency_ms=30000.0 if outcome is Outcome.TIMEOUT else None,
                    error=outcome.value,
                    **common,
                )
            )  # type: ignore[arg-type]
            continue
        cycle = math.exp(h.diurnal * math.sin(2 * math.pi * i / 1440 + phase))
        ttft = h.ttft_ms * cycle * math.exp(rng.gauss(0, h.ttft_sigma))
        tps = h.tps / cycle * math.exp(rng.gauss(0, h.tps_sigma))
        if rng.random() < h.freak_rate:
            ttft *= h.freak_factor
        ttft *= kinds.get("latency", 1.0) * kinds.get("ttft", 1.0)
        tps /= kinds.get("latency", 1.0)
        tps *= kinds.get("throughput", 1.0)
        gen = h.tokens / tps * 1000.0
        ok = rng.random() >= wrong_rate
        check = None
        if tools:
            check = "ok" if ok else "schema_mismatch"
            if not ok and "tool_calls" not in kinds:
                check = rng.choice(
                    ("schema_mismatch", "schema_mismatch", "invalid_json", "no_tool_call")
                )
        response_model = h.model + ("-next" if "model" in kinds else "")
        weights = "swap" if "swap" in kinds else "weights" if "weights" in kinds else None
        means = mean_logprobs(weights, kinds.get("weights", 0.0))
        top = sorted(
            (
                [t, round(min(0.0, lp + lrng.gauss(0, h.logprob_noise)), 4)]
                for t, lp in means.items()
            ),
            key=lambda p: -p[1],
        )
        out.append(
            ProbeResult(
                outcome=Outcome.OK if ok else Outcome.WRONG_ANSWER,
                http_status=200,
                ttft_ms=round(ttft, 1),
                latency_ms=round(ttft + gen, 1),
                input_tokens=21,
                output_tokens=h.tokens,
                tokens_per_s=round(tps, 2),
                quality_ok=ok,
                answer="391" if ok else "392",
                response_model=response_model,
                system_fingerprint=rng.choice(h.fingerprints),
                top_logprobs=top,
                tool_check=check,
                **common,
            )
        )  # type: ignore[arg-type]
    return Trace(target, out, events)


def _long_probe(
    i: int,
    start: datetime,
    target: str,
    provider: str,
    model: str,
    h: Healthy,
    phase: float,
    events: list[Event],
    rng: random.Random,
) -> ProbeResult:
    """The long-prompt canary's probe at minute `i` (20 s after the short one): always answered,
    TTFT `LONG_TTFT` times the short canary's, the same daily cycle; a `long_latency` event
    multiplies its TTFT (the prefill of the long prompt; the latency follows, the generation's
    tokens per second do not change)."""
    ts = start + timedelta(milliseconds=round(1000 * (i * INTERVAL + 20 + rng.uniform(-2, 2))))
    slow = 1.0
    for e in events:
        if e.kind == "long_latency" and e.covers(i):
            slow *= e.value
    cycle = math.exp(h.diurnal * math.sin(2 * math.pi * i / 1440 + phase))
    ttft = h.ttft_ms * LONG_TTFT * cycle * math.exp(rng.gauss(0, h.ttft_sigma)) * slow
    tps = h.tps / cycle * math.exp(rng.gauss(0, h.tps_sigma))
    latency = ttft + h.tokens / tps * 1000.0
    return ProbeResult(
        ts=ts,
        target=target,
        provider=provider,
        model=model,
        canary=LONG_CANARY,
        outcome=Outcome.OK,
        http_status=200,
        ttft_ms=round(ttft, 1),
        latency_ms=round(latency, 1),
        input_tokens=10_000,
        output_tokens=h.tokens,
        tokens_per_s=round(tps, 2),
        quality_ok=True,
        answer="391",
        response_model=h.model,
        system_fingerprint=h.fingerprints[0],
    )


def _http(outcome: Outcome) -> int | None:
    return {Outcome.SERVER_ERROR: 500, Outcome.OVERLOADED: 529}.get(outcome)


def _flapping_schedule(events: list[Event], rng: random.Random) -> set[int]:
    """Probes that fail during `flapping` events: down 3–8 probes, up 3–12, over and over."""
    down: set[int] = set()
    for e in events:
        if e.kind != "flapping":
            continue
        i = e.start
        while i < e.start + e.length:
            span = rng.randint(3, 8)
            down.update(range(i, min(i + span, e.start + e.length)))
            i += span + rng.randint(3, 12)
    return down
