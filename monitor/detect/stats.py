"""The statistics detection is built from: a rolling sorted window, a rate with a prior, and a
one-sided CUSUM with an alarm and a recovery statistic. Pure and small; no I/O, no clock."""

from __future__ import annotations

import math
from array import array
from bisect import bisect_left, bisect_right, insort
from statistics import NormalDist

_NORMAL = NormalDist()


STEP = 2048  # a window's values are kept in steps of 1/2048 (0.05 % as a ratio of timings)
LIMIT = 32767  # ±16 in log space: 10⁻⁷ to 10⁷ of the unit, far past any timing


def quantize(value: float) -> int:
    """`value` in the window's steps, clamped to what two bytes hold."""
    q = round(value * STEP)
    return LIMIT if q > LIMIT else -LIMIT if q < -LIMIT else q


class RollingWindow:
    """The last `size` values, also kept sorted, so quantiles read in O(1) and add in O(size)
    memmove (fast for the few hundred values a baseline holds).

    The values are log-space timings (and a seasonal signal's residuals, sorted, with no ring).
    They are kept in steps of 1/2048 (`quantize`), as two-byte integers: the order as a ring and
    a sorted copy, 4 bytes a value. A full window of 1,440 takes 5.8 KB where arrays of doubles
    took 23 KB and lists of floats 81, and 2,000 targets hold ~6,000 of them, one a timing
    signal (docs/benchmarks.md, "RSS after hours"). A step is 1/160 of the narrowest spread
    detection uses (`min_spread`, 0.08): values closer than that tie, and ties take their
    mid-rank."""

    __slots__ = ("_head", "_order", "_scores", "_sorted", "size")

    def __init__(self, size: int) -> None:
        self.size = size
        self._order = array("h")  # a ring once full; the oldest value at _head
        self._head = 0
        self._sorted = array("h")
        self._scores: list[float] = []  # normal scores of the half-ranks 0, ½, 1, … n

    def __len__(self) -> int:
        return len(self._sorted)

    @property
    def ring(self) -> array[int]:
        """The values in steps, as kept: oldest first from `head` once full (read only)."""
        return self._order

    @property
    def head(self) -> int:
        """Where the oldest value is in `ring` once full (the newest is just before it)."""
        return self._head

    def take_sorted(self, steps: bytes) -> None:
        """Hold these values (native two-byte integers in steps, sorted) and no ring: a window
        to read quantiles and scores from, not to add to."""
        self._order = array("h")
        self._head = 0
        self._sorted = array("h", steps)

    def add(self, value: float) -> None:
        q = quantize(value)
        order = self._order
        insort(self._sorted, q)
        if len(order) < self.size:
            order.append(q)
            return
        head = self._head
        old = order[head]
        order[head] = q
        self._head = head + 1 if head + 1 < self.size else 0
        del self._sorted[bisect_left(self._sorted, old)]

    def clear(self) -> None:
        del self._order[:]
        del self._sorted[:]
        self._head = 0

    def beyond(self, value: float) -> bool:
        """`value` is above every value in the window (as kept: a tie with the top is not)."""
        return not self._sorted or quantize(value) > self._sorted[-1]

    def quantile(self, q: float) -> float:
        """The `q` quantile (linear interpolation); the window must not be empty."""
        values = self._sorted
        pos = q * (len(values) - 1)
        low = int(pos)
        high = min(low + 1, len(values) - 1)
        return (values[low] + (values[high] - values[low]) * (pos - low)) / STEP

    def score(self, value: float) -> float:
        """The normal score of `value` against the window: Φ⁻¹((mid-rank + ½) / (n + 1)).

        Healthy values score as a standard normal whatever their distribution; a value beyond
        every one in the window scores Φ⁻¹((n + ½) / (n + 1)) (3.2 for n = 720)."""
        q = quantize(value)
        n = len(self._sorted)
        low = bisect_left(self._sorted, q)
        high = bisect_right(self._sorted, q, low)
        if n < self.size:  # still filling: compute it
            return _NORMAL.inv_cdf(((low + high) / 2 + 0.5) / (n + 1))
        if len(self._scores) != 2 * n + 1:
            self._scores = _score_table(n)
        return self._scores[low + high]

    def sorted_values(self) -> list[float]:
        """The values, smallest first (as kept: in steps of 1/2048)."""
        return [q / STEP for q in self._sorted]

    def values(self) -> list[float]:
        """The values, oldest first (as kept: in steps of 1/2048)."""
        head = self._head
        return [q / STEP for q in self._order[head:] + self._order[:head]]


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

    The observations are bits of a ring (the oldest at `_head` once full): 180 bytes for a
    window of 1,440 and 625 for the error windows' 5,000, where a deque of bools took 12 KB
    for 1,440 and a byte an observation 1.4 KB."""

    __slots__ = ("_bits", "_events", "_head", "_n", "prior", "size", "weight")

    def __init__(self, size: int, prior: float, weight: float) -> None:
        self._bits = bytearray()
        self._n = 0
        self._head = 0
        self.size = size
        self._events = 0
        self.prior = prior
        self.weight = weight

    def __len__(self) -> int:
        return self._n

    def add(self, event: bool) -> None:
        bits = self._bits
        n = self._n
        if n < self.size:
            i = n
            self._n = n + 1
            if i & 7 == 0:
                bits.append(0)
        else:  # full: the new observation takes the oldest one's place
            i = self._head
            self._head = i + 1 if i + 1 < n else 0
            mask = 1 << (i & 7)
            if bits[i >> 3] & mask:
                self._events -= 1
                bits[i >> 3] ^= mask
        if event:
            bits[i >> 3] |= 1 << (i & 7)
            self._events += 1

    def clear(self) -> None:
        del self._bits[:]
        self._n = self._head = self._events = 0

    @property
    def rate(self) -> float:
        return (self._events + self.prior * self.weight) / (self._n + self.weight)

    @property
    def raw_rate(self) -> float | None:
        return self._events / self._n if self._n else None


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
