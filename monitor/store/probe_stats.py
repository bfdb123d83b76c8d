"""Figures over stored probe results, for the HTTP API, metrics, badges and the transfer switch.

Two kinds of reader:
- `figures` and `history` stream the raw results of a bounded window into the shared
  `monitor.figures.Figures` (the aggregate rollups give too, so both read alike);
- `totals` sums counters and histogram buckets in SQL, so `/metrics` can cover all of history
  cheaply and then only what arrived since the last scrape.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, func
from sqlalchemy import select as sa_select
from sqlmodel import col, select

from monitor.figures import Figures
from monitor.result import Outcome
from monitor.store.db import Store
from monitor.store.results import between
from monitor.store.tables import ProbeRow


def percentile(values: Sequence[float], q: float) -> float | None:
    """The `q` quantile (0..1) of `values` by linear interpolation; None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q
    low, high = math.floor(pos), math.ceil(pos)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def figures(
    store: Store,
    since: datetime,
    until: datetime | None = None,
    *,
    targets: Sequence[str] | None = None,
    region: str | None = None,
) -> dict[str, Figures]:
    """Per target, the figures of its results with `since <= ts < until` (probed from `region`
    only, when given)."""
    out: dict[str, Figures] = {}
    for result in between(store, since, until, targets=targets):
        if region is None or result.region == region:
            out.setdefault(result.target, Figures()).add(result)
    return out


def history(
    store: Store, target: str, since: datetime, until: datetime, step: timedelta
) -> list[tuple[datetime, Figures]]:
    """`target`'s figures in consecutive buckets of `step` from `since` to `until`, empty ones
    included, so a chart shows gaps as gaps."""
    size = step.total_seconds()
    count = max(1, math.ceil((until - since).total_seconds() / size))
    buckets = [(since + i * step, Figures()) for i in range(count)]
    for result in between(store, since, until, targets=[target]):
        index = int((result.ts - since).total_seconds() // size)
        if 0 <= index < count:
            buckets[index][1].add(result)
    return buckets


@dataclass(slots=True)
class Totals:
    """Counters over results of one (provider, model, region, outcome), summed in SQL."""

    provider: str
    model: str
    region: str
    outcome: str
    probes: int
    cost_usd: float
    output_tokens: int
    ttft_count: int
    ttft_sum_ms: float
    ttft_buckets: list[int]  # cumulative: results with ttft_ms <= each bound
    latency_count: int
    latency_sum_ms: float
    latency_buckets: list[int]
    # The stream's clock: time to first chunk, and each probe's mean time per output chunk
    # ((last_chunk_ms - first_chunk_ms) / (chunks - 1), for streams of two chunks or more).
    first_chunk_count: int = 0
    first_chunk_sum_ms: float = 0.0
    first_chunk_buckets: list[int] = field(default_factory=list)
    chunk_gap_count: int = 0
    chunk_gap_sum_ms: float = 0.0
    chunk_gap_buckets: list[int] = field(default_factory=list)


def totals(
    store: Store,
    since: datetime | None,
    until: datetime,
    *,
    ttft_bounds_ms: Sequence[float] = (),
    latency_bounds_ms: Sequence[float] = (),
    first_chunk_bounds_ms: Sequence[float] = (),
    chunk_gap_bounds_ms: Sequence[float] = (),
    targets: Sequence[str] | None = None,
) -> list[Totals]:
    """Counts, sums and cumulative histogram buckets of results with `since <= ts < until`,
    grouped by provider, model, region and outcome (of `targets` only, if given). Latency counts only answered probes (a
    timeout's "latency" is the timeout)."""
    answered = col(ProbeRow.outcome).in_([o.value for o in Outcome if o.answered])
    latency: Any = case((answered, col(ProbeRow.latency_ms)), else_=None)
    gap: Any = case(
        (
            col(ProbeRow.chunks) > 1,
            (col(ProbeRow.last_chunk_ms) - col(ProbeRow.first_chunk_ms))
            / (col(ProbeRow.chunks) - 1),
        ),
        else_=None,
    )

    def under(column: Any, bound: float) -> Any:
        return func.coalesce(func.sum(case((column <= bound, 1), else_=0)), 0)

    columns: list[Any] = [
        ProbeRow.provider,
        ProbeRow.model,
        ProbeRow.region,
        ProbeRow.outcome,
        func.count(),
        func.coalesce(func.sum(col(ProbeRow.cost_usd)), 0.0),
        func.coalesce(func.sum(col(ProbeRow.output_tokens)), 0),
        func.count(col(ProbeRow.ttft_ms)),
        func.coalesce(func.sum(col(ProbeRow.ttft_ms)), 0.0),
        func.count(latency),
        func.coalesce(func.sum(latency), 0.0),
        func.count(col(ProbeRow.first_chunk_ms)),
        func.coalesce(func.sum(col(ProbeRow.first_chunk_ms)), 0.0),
        func.count(gap),
        func.coalesce(func.sum(gap), 0.0),
    ]
    columns += [under(col(ProbeRow.ttft_ms), b) for b in ttft_bounds_ms]
    columns += [under(latency, b) for b in latency_bounds_ms]
    columns += [under(col(ProbeRow.first_chunk_ms), b) for b in first_chunk_bounds_ms]
    columns += [under(gap, b) for b in chunk_gap_bounds_ms]
    query = select(*columns).where(col(ProbeRow.ts) < until)
    if since is not None:
        query = query.where(col(ProbeRow.ts) >= since)
    if targets is not None:
        query = query.where(col(ProbeRow.target).in_(list(targets)))
    query = query.group_by(ProbeRow.provider, ProbeRow.model, ProbeRow.region, ProbeRow.outcome)
    nt, nl, nf = len(ttft_bounds_ms), len(latency_bounds_ms), len(first_chunk_bounds_ms)
    out = []
    with store.session() as session:
        for row in session.exec(query):
            values = list(row)
            out.append(
                Totals(
                    provider=values[0],
                    model=values[1],
                    region=values[2],
                    outcome=values[3],
                    probes=int(values[4]),
                    cost_usd=float(values[5]),
                    output_tokens=int(values[6]),
                    ttft_count=int(values[7]),
                    ttft_sum_ms=float(values[8]),
                    latency_count=int(values[9]),
                    latency_sum_ms=float(values[10]),
                    first_chunk_count=int(values[11]),
                    first_chunk_sum_ms=float(values[12]),
                    chunk_gap_count=int(values[13]),
                    chunk_gap_sum_ms=float(values[14]),
                    ttft_buckets=[int(v) for v in values[15 : 15 + nt]],
                    latency_buckets=[int(v) for v in values[15 + nt : 15 + nt + nl]],
                    first_chunk_buckets=[int(v) for v in values[15 + nt + nl : 15 + nt + nl + nf]],
                    chunk_gap_buckets=[int(v) for v in values[15 + nt + nl + nf :]],
                )
            )
    return out


@dataclass(frozen=True, slots=True)
class TokenMeans:
    """Mean tokens and cost per probe of one (target, canary), over probes that reported tokens."""

    probes: int
    input_tokens: float
    output_tokens: float
    cost_usd: float | None


def token_means(store: Store, since: datetime) -> dict[tuple[str, str], TokenMeans]:
    """`{(target, canary): TokenMeans}` over results since `since` with token counts (SQL)."""
    t = ProbeRow.__table__  # type: ignore[attr-defined]
    query = (
        sa_select(
            t.c.target,
            t.c.canary,
            func.count(),
            func.avg(func.coalesce(t.c.input_tokens, 0)),
            func.avg(func.coalesce(t.c.output_tokens, 0)),
            func.avg(t.c.cost_usd),
        )
        .where(t.c.ts >= since)
        .where(t.c.output_tokens.is_not(None) | t.c.input_tokens.is_not(None))
        .group_by(t.c.target, t.c.canary)
    )
    with store.session() as session:
        rows = session.execute(query).all()
    return {
        (target, canary): TokenMeans(
            int(n), float(i or 0), float(o or 0), None if c is None else float(c)
        )
        for target, canary, n, i, o, c in rows
    }
