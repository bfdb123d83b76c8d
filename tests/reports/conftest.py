"""Seeding helpers for report and export tests: databases whose right answers are known."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from monitor.detect.types import Status, Transition
from monitor.result import Outcome, ProbeResult
from monitor.store import Store, results

T0 = datetime(2026, 10, 1, tzinfo=UTC)
DAY = timedelta(days=1)


def probe(ts: datetime, target: str = "openai/gpt-4o-mini", **kw: object) -> ProbeResult:
    """An ok probe of `target` at `ts`; keyword arguments override any field."""
    provider, _, model = target.partition("/")
    values: dict[str, object] = dict(
        ts=ts,
        target=target,
        provider=provider,
        model=model,
        canary="arithmetic",
        outcome=Outcome.OK,
        http_status=200,
        connect_ms=40.0,
        ttft_ms=300.0,
        latency_ms=500.0,
        input_tokens=21,
        output_tokens=2,
        tokens_per_s=40.0,
        quality_ok=True,
        answer="391",
        response_model=model,
        cost_usd=0.00001,
    )
    if kw.get("outcome", Outcome.OK) not in (Outcome.OK, Outcome.WRONG_ANSWER):
        values.update(
            ttft_ms=None,
            latency_ms=None,
            tokens_per_s=None,
            quality_ok=None,
            answer=None,
            http_status=None,
            output_tokens=None,
        )
    values.update(kw)
    return ProbeResult(**values)  # type: ignore[arg-type]


def seed(store: Store, probes: Iterable[ProbeResult]) -> int:
    """Store `probes` through the one write path, in chunks."""
    batch: list[ProbeResult] = []
    n = 0
    for p in probes:
        batch.append(p)
        if len(batch) == 5000:
            n += results.record(store, batch)
            batch = []
    return n + results.record(store, batch)


def flip(
    ts: datetime,
    old: str,
    new: str,
    target: str = "openai/gpt-4o-mini",
    reasons: tuple[str, ...] = (),
) -> Transition:
    return Transition(ts, target, Status(old), Status(new), list(reasons))
