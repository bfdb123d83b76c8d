"""A mergeable quantile sketch with a relative-error guarantee (the DDSketch idea), shared by the
rollups, reports, the API and the transfer switch.

Every positive value lands in bucket `ceil(log(v) / log(GAMMA))`, where GAMMA = (1+α)/(1-α) and
α = RELATIVE_ACCURACY: the bucket's representative value `2·GAMMA^i / (GAMMA+1)` is within α
of every value in it, so a quantile read from the sketch is within α (1 %) of a true sample
value at that rank. Memory grows with the log of the value range, not the sample count, and two
sketches merge by adding counts, which is what lets hour and day rollups (and a 90-day report)
give percentiles as good as the raw results'.

Stored form (`to_json` / `from_json`): a JSON object of bucket index -> count, e.g.
`{"311":2,"312":1}`, with index `0` standing for zero or negative values; the rollups keep one
such object per metric and row and add them in SQL (`monitor.store.rollups`).
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Iterable, Mapping

RELATIVE_ACCURACY = 0.01
GAMMA = (1 + RELATIVE_ACCURACY) / (1 - RELATIVE_ACCURACY)
_LOG_GAMMA = math.log(GAMMA)
# Values at or below this (zero, negative, sub-microsecond) share one bucket reported as 0. Index
# 0 is theirs in the stored form: no positive value above 1 (the stored metrics are ms and
# tokens/s) has index 0, and below 1 the index is negative.
_MIN_VALUE = 1e-6
ZERO_KEY = 0


def index_of(value: float) -> int:
    """The bucket of a positive `value`."""
    return math.ceil(math.log(value) / _LOG_GAMMA)


def value_of(index: int) -> float:
    """The representative value of bucket `index` (within α of all its values)."""
    return 2 * GAMMA**index / (GAMMA + 1)


class Sketch:
    """A mergeable quantile sketch with relative accuracy `RELATIVE_ACCURACY`."""

    __slots__ = ("buckets", "count", "high", "low", "zeros")

    def __init__(self) -> None:
        self.buckets: Counter[int] = Counter()
        self.zeros = 0
        self.count = 0
        # The extremes seen: a quantile is clamped to them, so one repeated value reads back exact.
        self.low: float | None = None
        self.high: float | None = None

    def add(self, value: float, weight: int = 1) -> None:
        if math.isnan(value) or weight <= 0:
            return
        if value <= _MIN_VALUE:
            self.zeros += weight
        else:
            self.buckets[index_of(value)] += weight
        self.count += weight
        self.bound(value, value)

    index_of = staticmethod(index_of)

    def bound(self, low: float | None, high: float | None) -> None:
        """Widen the known extremes to include `low` and `high` (None: unknown)."""
        if low is not None:
            self.low = low if self.low is None else min(self.low, low)
        if high is not None:
            self.high = high if self.high is None else max(self.high, high)

    def extend(self, values: Iterable[float]) -> None:
        for value in values:
            self.add(value)

    def merge(self, other: Sketch) -> None:
        self.buckets.update(other.buckets)
        self.zeros += other.zeros
        self.count += other.count
        self.bound(other.low, other.high)

    def quantile(self, q: float) -> float | None:
        """The nearest-rank `q`-quantile (0 ≤ q ≤ 1) of the values added, or None when there
        are none: the value at rank `ceil(q·count)` (at least 1), within α of it, clamped to the
        extremes."""
        if self.count == 0:
            return None
        rank = max(1, math.ceil(q * self.count - 1e-9))
        seen = self.zeros
        value = 0.0
        if seen < rank:
            for index in sorted(self.buckets):
                seen += self.buckets[index]
                value = value_of(index)
                if seen >= rank:
                    break
        if self.low is not None:
            value = max(value, self.low)
        if self.high is not None:
            value = min(value, self.high)
        return value

    @classmethod
    def from_buckets(
        cls, buckets: Iterable[tuple[int, int]], low: float | None, high: float | None
    ) -> Sketch:
        """A sketch of (bucket index, count) pairs and known extremes."""
        sketch = cls()
        for index, count in buckets:
            sketch.buckets[index] += count
            sketch.count += count
        sketch.low, sketch.high = low, high
        return sketch

    @classmethod
    def from_counts(
        cls, counts: Mapping[int, int], low: float | None = None, high: float | None = None
    ) -> Sketch:
        """A sketch of the stored form's counts (index -> count; `ZERO_KEY` for zeros)."""
        # Copied whole, not key by key: a 90-day report turns ~10^5 stored sketches into these.
        sketch = cls()
        buckets = Counter(counts)
        sketch.zeros = buckets.pop(ZERO_KEY, 0)
        sketch.buckets = buckets
        sketch.count = sum(counts.values())
        sketch.low, sketch.high = low, high
        return sketch

    def counts(self) -> dict[int, int]:
        """The stored form's counts (see `from_counts`)."""
        out = dict(self.buckets)
        if self.zeros:
            out[ZERO_KEY] = out.get(ZERO_KEY, 0) + self.zeros
        return out


def key_of(value: float) -> int:
    """The stored form's key of `value` (`ZERO_KEY` for zero or less)."""
    return ZERO_KEY if value <= _MIN_VALUE else index_of(value)


def to_json(counts: Mapping[int, int]) -> str:
    """The stored form: compact JSON, keys in order."""
    return json.dumps({str(k): int(v) for k, v in sorted(counts.items())}, separators=(",", ":"))


def from_json(text: str | None) -> dict[int, int]:
    """Counts from the stored form (None or empty: none)."""
    if not text:
        return {}
    return {int(k): int(v) for k, v in json.loads(text).items()}
