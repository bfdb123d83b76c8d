"""Simulated probe history: realistic `ProbeResult`s for days past, without any network.

`brownout demo` backfills a few days with it so the status page has history to show, and the
dashboard benchmark seeds 90 days × 200 targets with it. Results are stored the one way results
are ever stored (`monitor.store.results.record`), so the rollups are built as in production.

    episodes = day_in_the_life(targets, until=now, days=3)
    for batch in batched(generate(targets, since, now, episodes=episodes), 2000):
        results.record(store, batch)

Each target has its own baseline (TTFT, generation speed, price) drawn from its name, a daily
rhythm (slower at the busy hours), a trickle of ordinary failures, and whatever `Episode`s say:
a `quality` brownout (wrong answers), a `latency` brownout (several times slower, some
timeouts) or an `outage` (overloaded and connection errors), each over a stretch of time.
"""

from __future__ import annotations

import hashlib
import math
import random
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from itertools import islice
from typing import Any, Literal

from monitor.config import Config
from monitor.pipeline.detection import DetectionService
from monitor.result import Outcome, ProbeResult
from monitor.store import Store, results

MIN_TIMED_TOKENS = 8
"""Below this many answer tokens the history has no tokens/s: the rate of two or three tokens
is noise, and a live probe of a one-word answer has none either."""

Kind = Literal["quality", "latency", "outage"]


@dataclass(frozen=True, slots=True)
class Episode:
    """A stretch of trouble for one target."""

    target: str
    start: datetime
    end: datetime
    kind: Kind

    def covers(self, target: str, ts: datetime) -> bool:
        return target == self.target and self.start <= ts < self.end


@dataclass(frozen=True, slots=True)
class Baseline:
    """A target's normal behaviour."""

    ttft_ms: float
    tokens_per_s: float
    price_in: float  # USD per million tokens
    price_out: float

    @classmethod
    def of(cls, target: str) -> Baseline:
        """A stable baseline from the target's name, so every run draws the same one."""
        digest = hashlib.sha256(target.encode()).digest()
        return cls(
            ttft_ms=250 + digest[0] * 2.5,
            tokens_per_s=30 + digest[1] / 4,
            price_in=0.1 + digest[2] / 200,
            price_out=0.4 + digest[3] / 60,
        )


def day_in_the_life(targets: Sequence[str], until: datetime, days: float = 3) -> list[Episode]:
    """The demo's scripted history: the first target healthy throughout, the second with a
    quality brownout, the third with a latency brownout, the fourth with an outage that
    recovers. Each happened in the past `days`, and each has ended by `until`."""
    span = timedelta(days=days)
    start = until - span
    plan: list[tuple[Kind, float, float]] = [
        ("quality", 0.30, 5.0),  # (kind, when as a fraction of the span, hours)
        ("latency", 0.55, 3.0),
        ("outage", 0.80, 1.5),
    ]
    episodes = []
    for target, (kind, at, hours) in zip(targets[1:], plan, strict=False):
        begin = start + span * at
        episodes.append(Episode(target, begin, begin + timedelta(hours=hours), kind))
    return episodes


def generate(
    targets: Sequence[str],
    since: datetime,
    until: datetime,
    *,
    interval: float = 60.0,
    canaries: Sequence[str] = ("arithmetic",),
    episodes: Sequence[Episode] = (),
    region: str = "default",
    seed: int = 0,
    prices: Mapping[str, tuple[float, float]] | None = None,
    answer_tokens: Mapping[str, int] | None = None,
) -> Iterator[ProbeResult]:
    """One result per target every `interval` seconds over `[since, until)`, oldest first.

    `prices` (target -> USD per million input, output tokens), when given, is every price
    there is: a target missing from it has none, so its results cost nothing (`cost_usd`
    None), as its live probes do; without `prices`, each target draws one. `answer_tokens`
    (canary -> about how many tokens its answer has; 2-4 when not named) sizes the answers;
    an answer of fewer than MIN_TIMED_TOKENS has no `tokens_per_s`.
    """
    rng = random.Random(seed)
    baselines = {t: Baseline.of(t) for t in targets}
    if prices is not None:
        for target in targets:
            price_in, price_out = prices.get(target, (math.nan, math.nan))
            baselines[target] = replace(baselines[target], price_in=price_in, price_out=price_out)
    sizes = answer_tokens or {}
    offsets = {t: (Baseline.of(t).ttft_ms * 7919) % interval for t in targets}
    shifts = {t: timedelta(seconds=offsets[t]) for t in targets}
    ticks = int((until - since).total_seconds() // interval)
    for tick in range(ticks):
        tick_start = since + timedelta(seconds=tick * interval)
        canary = canaries[tick % len(canaries)]
        # Busier (slower) in the working hours of the day, by up to a third.
        hour = tick_start.hour + tick_start.minute / 60
        rhythm = 1 + 0.33 * max(0.0, math.sin((hour - 8) / 24 * 2 * math.pi))
        for target in targets:
            ts = tick_start + shifts[target]
            if ts >= until:
                continue
            trouble = next((e.kind for e in episodes if e.covers(target, ts)), None)
            yield _probe(rng, target, baselines[target], ts, canary, trouble, region, rhythm, sizes)


def _probe(
    rng: random.Random,
    target: str,
    base: Baseline,
    ts: datetime,
    canary: str,
    trouble: Kind | None,
    region: str,
    rhythm: float,
    sizes: Mapping[str, int],
) -> ProbeResult:
    provider, _, model = target.partition("/")
    roll = rng.random()
    slow = 4.0 if trouble == "latency" else 1.0
    failure = _failure(roll, trouble)
    common: dict[str, Any] = {
        "ts": ts,
        "target": target,
        "provider": provider,
        "model": model,
        "canary": canary,
        "region": region,
        "input_tokens": 21,
    }
    if failure is not None:
        outcome, status, error = failure
        latency = 30000.0 if outcome is Outcome.TIMEOUT else rng.uniform(40, 400)
        return ProbeResult(
            outcome=outcome, http_status=status, latency_ms=latency, error=error, **common
        )
    ttft = base.ttft_ms * rhythm * slow * rng.lognormvariate(0, 0.25)
    size = sizes.get(canary)
    output_tokens = 2 + int(rng.random() * 3) if size is None else max(1, round(size))
    tps = base.tokens_per_s / slow * rng.lognormvariate(0, 0.15) / rhythm
    latency = ttft + output_tokens / tps * 1000
    wrong = (trouble == "quality" and rng.random() < 0.45) or rng.random() < 0.004
    cost: float | None = (21 * base.price_in + output_tokens * base.price_out) / 1e6
    if cost is not None and math.isnan(cost):
        cost = None  # no price: a live probe of this target costs nothing known either
    return ProbeResult(
        outcome=Outcome.WRONG_ANSWER if wrong else Outcome.OK,
        http_status=200,
        connect_ms=None if rng.random() < 0.9 else rng.uniform(20, 80),
        ttft_ms=round(ttft, 1),
        latency_ms=round(latency, 1),
        output_tokens=output_tokens,
        tokens_per_s=round(tps, 1) if output_tokens >= MIN_TIMED_TOKENS else None,
        quality_ok=not wrong,
        answer="381" if wrong else "391",
        response_model=None,  # unknown: the live monitor establishes what answers
        cost_usd=cost,
        **common,
    )


_FAILURES: dict[Kind | None, list[tuple[float, Outcome, int | None, str]]] = {
    None: [
        (0.002, Outcome.SERVER_ERROR, 500, "500 Internal Server Error"),
        (0.004, Outcome.RATE_LIMITED, 429, "429 Too Many Requests"),
        (0.005, Outcome.TIMEOUT, None, "no answer within 30s"),
    ],
    "latency": [(0.06, Outcome.TIMEOUT, None, "no answer within 30s")],
    "outage": [
        (0.70, Outcome.OVERLOADED, 529, "529 overloaded_error: Overloaded"),
        (0.95, Outcome.CONNECTION_ERROR, None, "connection refused"),
    ],
}


def _failure(roll: float, trouble: Kind | None) -> tuple[Outcome, int | None, str] | None:
    for below, outcome, status, error in _FAILURES.get(trouble, []) or _FAILURES[None]:
        if roll < below:
            return outcome, status, error
    return None


def batched(items: Iterable[ProbeResult], size: int) -> Iterator[list[ProbeResult]]:
    """`items` in lists of `size` (the last one shorter)."""
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


def backfill(
    store: Store,
    config: Config,
    now: datetime,
    *,
    days: float = 3.0,
    interval: float = 60.0,
    detect: bool = True,
) -> tuple[int, int]:
    """Store `days` of `day_in_the_life` history for the config's targets, ending at `now`,
    through `results.record` (so rollups are built), and run detection over it in time order
    when `detect` (so its transitions and incidents are stored). Returns (results, transitions).
    """
    targets = [t.name for t in config.targets()]
    canaries = [c.name for c in config.canaries] or ["arithmetic"]
    prices = {t.name: (t.price.input, t.price.output) for t in config.targets() if t.price}
    # A long answer (the `count` canary) is about 0.6 of its max_tokens; short ones are 2-4.
    answer_tokens = {
        c.name: round(c.max_tokens * 0.6) for c in config.canaries if c.max_tokens >= 64
    }
    service = None
    clock = [now - timedelta(days=days)]
    if detect:
        # Detection judges staleness by the schedule: give it the history's own spacing.
        spaced = config.model_copy(
            update={"schedule": config.schedule.model_copy(update={"interval": interval})}
        )
        service = DetectionService(store, spaced, clock=lambda: clock[0])
    made = generate(
        targets,
        now - timedelta(days=days),
        now,
        interval=interval,
        canaries=canaries,
        episodes=day_in_the_life(targets, now, days),
        region=config.region,
        prices=prices,
        answer_tokens=answer_tokens,
    )
    stored = transitions = 0
    for batch in batched(made, 500):
        stored += results.record(store, batch)
        if service is not None:
            clock[0] = batch[-1].ts
            transitions += len(service.observe(batch))
    return stored, transitions
