"""The statistics detection is built from: a rolling sorted window, a rate with a prior, and a
one-sided CUSUM with an alarm and a recovery statistic. Pure and small; no I/O, no clock."""

from __future__ import annotations

import math
from array import array
from bisect import bisect_left, bisect_right, insort
from statistics import NormalDist

_NORMAL = NormalDist()


class RollingWindow:
    """The last `size` values, also kept sorted, so quantiles read in O(1) and add in O(size)
    memmove (fast for the few hundred values a baseline holds).

    Both are arrays of doubles (16 bytes a value), not lists of Python floats (56): a full
    window of 1,440 values takes 23 KB instead of 81 KB, and 2,000 targets hold ~9,000 of them
    (bench/load.py; the same values, so the same figures)."""

    __slots__ = ("_order", "_scores", "_sorted", "size")

    def __init__(self, size: int) -> None:
        self.size = size
        self._order = array("d")  # oldest first
        self._sorted = array("d")
        self._scores: list[float] = []  # normal scores of the half-ranks 0, ½, 1, … n

    def __len__(self) -> int:
        return len(self._order)

    def add(self, value: float) -> None:
        self._order.append(value)
        insort(self._sorted, value)
        if len(self._order) > self.size:
            old = self._order.pop(0)
            del self._sorted[bisect_left(self._sorted, old)]

    def clear(self) -> None:
        del self._order[:]
        del self._sorted[:]

    @property
    def top(self) -> float:
        """The largest value (−inf when empty)."""
        return self._sorted[-1] if self._sorted else -math.inf

    def quantile(self, q: float) -> float:
        """The `q` quantile (linear interpolation); the window must not be empty."""
        values = self._sorted
        pos = q * (len(values) - 1)
        low = int(pos)
        high = min(low + 1, len(values) - 1)
        return values[low] + (values[high] - values[low]) * (pos - low)

    def score(self, value: float) -> float:
        """The normal score of `value` against the window: Φ⁻¹((mid-rank + ½) / (n + 1)).

        Healthy values score as a standard normal whatever their distribution; a value beyond
        every one in the window scores Φ⁻¹((n + ½) / (n + 1)) (3.2 for n = 720)."""
        n = len(self._sorted)
        low = bisect_left(self._sorted, value)
        high = bisect_right(self._sorted, value, low)
        if n < self.size:  # still filling: compute it
            return _NORMAL.inv_cdf(((low + high) / 2 + 0.5) / (n + 1))
        if len(self._scores) != 2 * n + 1:
            self._scores = _score_table(n)
        return self._scores[low + high]

    def values(self) -> list[float]:
        return list(self._order)


_TABLES: dict[int, list[float]] = {}


def _score_table(n: int) -> list[float]:
    """Normal scores of every half-rank against a full window of n values, shared by windows."""
    table = _TABLES.get(n)
    if table is None:
        table = _TABLES[n] = [_NORMAL.inv_cdf((k / 2 + 0.5) / (n + 1)) for k in range(2 * n + 1)]
    return table


class RateWindow:
    """The rate of an event over the last `size` observations, shrunk towards `prior` as if
    `weight` prior observations had been seen (so a few events early on don't swing it).

    The observations are bytes (0 or 1), oldest first: 1.4 KB for a window of 1,440, where a
    deque of bools took 12 KB."""

    __slots__ = ("_events", "_window", "prior", "size", "weight")

    def __init__(self, size: int, prior: float, weight: float) -> None:
        self._window = bytearray()
        self.size = size
        self._events = 0
        self.prior = prior
        self.weight = weight

    def __len__(self) -> int:
        return len(self._window)

    def add(self, event: bool) -> None:
        if len(self._window) >= self.size:
            self._events -= self._window[0]
            del self._window[0]
        self._window.append(1 if event else 0)
        self._events += 1 if event else 0

    def clear(self) -> None:
        del self._window[:]
        self._events = 0

    @property
    def rate(self) -> float:
        return (self._events + self.prior * self.weight) / (len(self._window) + self.weight)

    @property
    def raw_rate(self) -> float | None:
        return self._events / len(self._window) if self._window else None


class Cusum:
    """A one-sided CUSUM on log-likelihood ratios (Page 1954) with hysteresis.

    `update(llr)` adds one sample's log-likelihood ratio (shifted vs healthy). The alarm goes on
    when the evidence `s` reaches `threshold`; while on, a mirror CUSUM `r` gathers evidence of
    health and the alarm goes off when it reaches `clear`. By default the mirror adds -llr; a
    signal whose leaving test weighs health against another alternative (the brownout at its own
    rate, see `leave_llr`) passes that ratio as `leave`. `s` is capped at the threshold while
    alarmed, so a long incident does not take longer to recover from than a short one.
    """

    __slots__ = ("alarm", "clear", "r", "s", "threshold")

    def __init__(self, threshold: float, clear: float) -> None:
        self.threshold = threshold
        self.clear = clear
        self.s = 0.0
        self.r = 0.0
        self.alarm = False

    def update(self, llr: float, leave: float | None = None) -> bool:
        """Add one sample; returns True when the alarm went on or off. `leave` is the sample's
        log-likelihood ratio of brownout against health for the leaving test (default `llr`)."""
        if not self.alarm:
            self.s = max(0.0, self.s + llr)
            if self.s >= self.threshold:
                self.alarm, self.r = True, 0.0
                return True
            return False
        self.s = min(self.threshold, max(0.0, self.s + llr))
        self.r = max(0.0, self.r - (llr if leave is None else leave))
        if self.r >= self.clear:
            self.reset()
            return True
        return False

    def reset(self) -> None:
        self.s, self.r, self.alarm = 0.0, 0.0, False


def lower_bound(events: float, n: float, z: float = 1.645) -> float:
    """Wilson's lower confidence bound (one-sided 95 % by default) of a rate seen as `events` in
    `n` trials; 0 when nothing was seen."""
    if n <= 0:
        return 0.0
    p = events / n
    den = 1.0 + z * z / n
    centre = p + z * z / (2 * n)
    margin = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, (centre - margin) / den)


def bernoulli_llr(event: bool, p0: float, p1: float) -> float:
    """Log-likelihood ratio of one Bernoulli observation, rate `p1` against `p0`."""
    return math.log(p1 / p0) if event else math.log((1.0 - p1) / (1.0 - p0))


def bernoulli_kl(p: float, q: float) -> float:
    """KL(Bernoulli(p) || Bernoulli(q)) in nats: the information per sample for telling p from q."""
    out = 0.0
    if p > 0:
        out += p * math.log(p / q)
    if p < 1:
        out += (1 - p) * math.log((1 - p) / (1 - q))
    return out


def clamp(value: float, low: float, high: float) -> float:
    return min(high, max(low, value))
