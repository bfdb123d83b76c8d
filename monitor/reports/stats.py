"""Small statistics the report needs: a mergeable quantile sketch and the Wilson interval.

`Sketch` is a logarithmic histogram (the DDSketch idea): every value lands in a bucket whose
bounds differ by a fixed ratio, so any quantile read from it is within `RELATIVE_ACCURACY` of a
true sample value, memory grows with the log of the value range (not the sample count), and two
sketches merge by adding counts. That is what lets a 90-day report add up day aggregates
instead of re-reading every probe.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable

RELATIVE_ACCURACY = 0.01
_GAMMA = (1 + RELATIVE_ACCURACY) / (1 - RELATIVE_ACCURACY)
_LOG_GAMMA = math.log(_GAMMA)
# Values at or below this (zero, negative, sub-microsecond) share one bucket reported as 0.
_MIN_VALUE = 1e-6


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
            self.buckets[self.index_of(value)] += weight
        self.count += weight
        self.bound(value, value)

    @staticmethod
    def index_of(value: float) -> int:
        """The bucket of a positive `value`."""
        return math.ceil(math.log(value) / _LOG_GAMMA)

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
        """The `q`-quantile (0 ≤ q ≤ 1) of the values added, or None when there are none."""
        if self.count == 0:
            return None
        rank = q * (self.count - 1)
        seen = self.zeros
        value = 0.0
        if seen <= rank:
            for index in sorted(self.buckets):
                seen += self.buckets[index]
                value = 2 * _GAMMA**index / (_GAMMA + 1)
                if seen > rank:
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
        """A sketch of another histogram: (bucket index of its bins' representative values,
        count) pairs and its extremes. How stored rollups become sketches; the accuracy is
        that histogram's."""
        sketch = cls()
        for index, count in buckets:
            sketch.buckets[index] += count
            sketch.count += count
        sketch.low, sketch.high = low, high
        return sketch


def wilson(successes: int, trials: int, z: float = 1.96) -> tuple[float, float] | None:
    """The Wilson score interval for a proportion (95 % for z = 1.96), or None with no trials.

    Unlike `p ± z·sqrt(p(1-p)/n)` it stays inside [0, 1] and is honest for small samples and
    proportions near 0 or 1, which is where canary pass rates live.
    """
    if trials <= 0:
        return None
    p = successes / trials
    z2 = z * z
    denom = 1 + z2 / trials
    centre = (p + z2 / (2 * trials)) / denom
    half = z * math.sqrt(p * (1 - p) / trials + z2 / (4 * trials * trials)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)
