"""Builders of probe results for detection tests: a seeded healthy stream and brownouts on it."""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from monitor.result import Outcome, ProbeResult

T0 = datetime(2026, 11, 2, tzinfo=UTC)
MINUTE = timedelta(minutes=1)
SECOND = timedelta(seconds=1)

Make = Callable[..., list[ProbeResult]]


def probe(i: int, target: str = "openai/gpt-4o-mini", **kw: Any) -> ProbeResult:
    """Probe number `i` (one a minute from T0): a good answer unless `kw` says otherwise."""
    provider, _, model = target.partition("/")
    values: dict[str, Any] = dict(
        ts=T0 + i * MINUTE,
        target=target,
        provider=provider,
        model=model,
        canary="arithmetic",
        outcome=Outcome.OK,
        http_status=200,
        ttft_ms=400.0,
        latency_ms=600.0,
        output_tokens=12,
        tokens_per_s=60.0,
        quality_ok=True,
        answer="391",
        response_model="gpt-4o-mini-2024-07-18",
        system_fingerprint="fp_1",
    )
    values.update(kw)
    if values["outcome"] not in (Outcome.OK, Outcome.WRONG_ANSWER, "ok", "wrong_answer"):
        values.update(
            ttft_ms=None,
            latency_ms=None,
            tokens_per_s=None,
            quality_ok=None,
            answer=None,
            response_model=None,
            system_fingerprint=None,
        )
    return ProbeResult(**values)


def healthy_stream(
    start: int,
    n: int,
    seed: int = 7,
    target: str = "openai/gpt-4o-mini",
    slow: float = 1.0,
    error_rate: float = 0.0,
    wrong_rate: float = 0.02,
    limit_rate: float = 0.0,
    model: str = "gpt-4o-mini-2024-07-18",
) -> list[ProbeResult]:
    """Probes `start`..`start+n-1` with lognormal timings (×`slow`) and the given rates."""
    rng = random.Random(seed * 1_000_003 + start)
    out = []
    for i in range(start, start + n):
        u = rng.random()
        if u < limit_rate:
            out.append(probe(i, target, outcome=Outcome.RATE_LIMITED, http_status=429))
        elif u < limit_rate + error_rate:
            out.append(probe(i, target, outcome=Outcome.SERVER_ERROR, http_status=500))
        else:
            ttft = 400 * slow * math.exp(rng.gauss(0, 0.35))
            tps = 60 / slow * math.exp(rng.gauss(0, 0.3))
            ok = rng.random() >= wrong_rate
            out.append(
                probe(
                    i,
                    target,
                    ttft_ms=ttft,
                    latency_ms=ttft + 12000 / tps,
                    tokens_per_s=tps,
                    outcome=Outcome.OK if ok else Outcome.WRONG_ANSWER,
                    quality_ok=ok,
                    response_model=model,
                )
            )
    return out


@pytest.fixture
def make() -> Make:
    return healthy_stream
