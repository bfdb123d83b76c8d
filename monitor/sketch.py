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
import warnings
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # numpy is imported where arrays are made: the run path need not load it
    import numpy as np

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


Part = tuple[
    "np.ndarray[tuple[int], np.dtype[np.int64]]", "np.ndarray[tuple[int], np.dtype[np.int64]]"
]
"""Bucket indexes and their counts as two arrays (no `ZERO_KEY`), not yet added up."""


class Sketch:
    """A mergeable quantile sketch with relative accuracy `RELATIVE_ACCURACY`.

    A sketch read in bulk (`from_part`, `parse_many`) keeps its counts as arrays and a merge
    only lists the other's arrays: they are added up (in numpy) when a quantile is asked, or
    turned into `buckets` when those are read. A 90-day report merges ~50,000 stored sketches of
    ~80 buckets each, which as `Counter` additions took seconds; the figures are the same."""

    __slots__ = ("_buckets", "_cum", "_parts", "_sorted", "count", "high", "low", "zeros")

    def __init__(self) -> None:
        self._buckets: Counter[int] | None = None  # made when first needed
        self._parts: list[Part] = []  # counts not yet in `_buckets`
        self._cum: np.ndarray | None = None  # cumulative counts of `_parts[0]` once added up
        self._sorted = False  # `_parts` is one part of distinct keys in order
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

    @property
    def buckets(self) -> Counter[int]:
        """Bucket index -> count (the counts kept as arrays are moved in first)."""
        if self._parts:
            keys, counts = self._added()
            self._buckets = Counter(dict(zip(keys.tolist(), counts.tolist(), strict=True)))
            self._parts, self._cum, self._sorted = [], None, False
        elif self._buckets is None:
            self._buckets = Counter()
        return self._buckets

    @buckets.setter
    def buckets(self, value: Counter[int]) -> None:
        self._buckets, self._parts, self._cum, self._sorted = value, [], None, False

    @classmethod
    def from_part(
        cls,
        part: Part,
        zeros: int,
        count: int,
        low: float | None,
        high: float | None,
        in_order: bool = False,
    ) -> Sketch:
        """A sketch of `part` (bucket indexes and counts, no `ZERO_KEY`; `in_order`: distinct
        indexes in ascending order), `zeros` values at or below zero, `count` values in all,
        and known extremes."""
        sketch = cls.__new__(cls)  # as __init__ does, without its empty list
        sketch._buckets, sketch._cum, sketch._sorted = None, None, in_order
        sketch._parts = [part] if len(part[0]) else []
        sketch.zeros, sketch.count = zeros, count
        sketch.low, sketch.high = low, high
        return sketch

    def _added(self) -> Part:
        """Every count, `_buckets` and `_parts`, added up per bucket: sorted indexes, counts.
        Kept as the one part (and its cumulative counts) until the next change."""
        import numpy as np

        if len(self._parts) == 1 and not self._buckets and self._sorted:
            if self._cum is None:
                self._cum = self._parts[0][1].cumsum()
            return self._parts[0]
        parts = list(self._parts)
        if self._buckets:
            keys = np.fromiter(self._buckets.keys(), dtype=np.int64, count=len(self._buckets))
            vals = np.fromiter(self._buckets.values(), dtype=np.int64, count=len(self._buckets))
            parts.append((keys, vals))
        if len(parts) == 1:
            keys, counts = parts[0]
            order = np.argsort(keys, kind="stable")
            keys, counts = keys[order], counts[order]
            if len(keys) > 1 and not bool((keys[1:] != keys[:-1]).all()):
                keys, counts = sum_by_key(keys, counts)
        else:
            keys, counts = sum_by_key(
                np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])
            )
        self._buckets, self._parts, self._sorted = None, [(keys, counts)], True
        self._cum = np.cumsum(counts)
        return keys, counts

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
        if len(other._parts) > 1:
            other._added()  # added up once, however many sketches it goes into
        if other._parts or self._parts:
            alone = not self._parts and not self._buckets and not other._buckets
            self._parts += other._parts
            if other._buckets:
                import numpy as np

                keys = np.fromiter(other._buckets.keys(), np.int64, count=len(other._buckets))
                vals = np.fromiter(other._buckets.values(), np.int64, count=len(other._buckets))
                self._parts.append((keys, vals))
            # Into an empty sketch, another's one part (added up already, maybe) is its own.
            self._cum, self._sorted = (other._cum, other._sorted) if alone else (None, False)
        else:
            if other._buckets:
                self.buckets.update(other._buckets)
        self.zeros += other.zeros
        self.count += other.count
        self.bound(other.low, other.high)

    @classmethod
    def total(cls, sketches: Iterable[Sketch]) -> Sketch:
        """A new sketch with every one of `sketches` merged in, in order: what one `merge` at a
        time gives, in one pass."""
        out = cls()
        parts = out._parts
        counters: list[Counter[int]] = []
        zeros = count = 0
        low: float | None = None
        high: float | None = None
        alone: Sketch | None = None  # the one sketch whose part(s) the total is, if one
        for sketch in sketches:
            if len(sketch._parts) > 1:
                sketch._added()  # added up once, however many sketches it goes into
            if sketch._parts:
                alone = sketch if not parts else None
                parts += sketch._parts
            if sketch._buckets:
                counters.append(sketch._buckets)
            zeros += sketch.zeros
            count += sketch.count
            if sketch.low is not None:
                low = sketch.low if low is None else min(low, sketch.low)
            if sketch.high is not None:
                high = sketch.high if high is None else max(high, sketch.high)
        if counters:
            alone = None
            if parts:
                import numpy as np

                for counter in counters:
                    keys = np.fromiter(counter.keys(), np.int64, count=len(counter))
                    vals = np.fromiter(counter.values(), np.int64, count=len(counter))
                    parts.append((keys, vals))
            else:
                buckets = out.buckets
                for counter in counters:
                    buckets.update(counter)
        if alone is not None:
            out._cum, out._sorted = alone._cum, alone._sorted
        out.zeros, out.count, out.low, out.high = zeros, count, low, high
        return out

    def quantile(self, q: float) -> float | None:
        """The nearest-rank `q`-quantile (0 ≤ q ≤ 1) of the values added, or None when there
        are none: the value at rank `ceil(q·count)` (at least 1), within α of it, clamped to the
        extremes."""
        if self.count == 0:
            return None
        rank = max(1, math.ceil(q * self.count - 1e-9))
        seen = self.zeros
        value = 0.0
        if self._parts:
            keys, _ = self._added()
            assert self._cum is not None
            if seen < rank:  # the first bucket whose running count reaches the rank
                at = min(int(self._cum.searchsorted(rank - seen, side="left")), len(keys) - 1)
                value = value_of(int(keys[at]))
        elif seen < rank:
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

    @staticmethod
    def quantiles(sketches: Sequence[Sketch], q: float) -> list[float | None]:
        """`[s.quantile(q) for s in sketches]`, the same values, with the sketches kept as arrays
        searched all at once: a 90-day report's daily table asks two quantiles of each of
        ~18,000 day rows, ~14 µs a call one by one. Sketches kept as a `Counter` are asked
        one by one."""
        import numpy as np

        out: list[float | None] = [None] * len(sketches)
        at: list[int] = []  # which sketches are searched at once
        parts: list[np.ndarray] = []
        counts: list[np.ndarray] = []
        ranks: list[int] = []  # the rank past the zeros, per searched sketch
        for i, sketch in enumerate(sketches):
            n = sketch.count
            if n == 0:
                continue
            rank = max(1, math.ceil(q * n - 1e-9))
            if not sketch._parts or sketch.zeros >= rank:
                out[i] = sketch.quantile(q)  # no search (zeros) or a Counter's walk
                continue
            if not (len(sketch._parts) == 1 and not sketch._buckets and sketch._sorted):
                sketch._added()  # added up as `quantile` would, kept for the next question
            keys, found = sketch._parts[0]
            if not len(keys):
                out[i] = sketch.quantile(q)
                continue
            at.append(i)
            parts.append(keys)
            counts.append(found)
            ranks.append(rank - sketch.zeros)
        if not at:
            return out
        sizes = np.fromiter((len(k) for k in parts), dtype=np.int64, count=len(parts))
        ends = np.cumsum(sizes)
        starts = ends - sizes
        cum = np.cumsum(np.concatenate(counts))
        base = np.where(starts > 0, cum[np.maximum(starts - 1, 0)], 0)
        # No count is negative, so the running total never falls, across sketches too: the first
        # place it reaches a sketch's base plus its rank is inside that sketch, or past it (then
        # its last bucket, as `quantile` takes it).
        where = np.searchsorted(cum, base + np.asarray(ranks, dtype=np.int64), side="left")
        where = np.minimum(where, ends - 1)
        indexes = np.concatenate(parts)[where].tolist()
        values: dict[int, float] = {}
        for i, index in zip(at, indexes, strict=True):
            value = values.get(index)
            if value is None:
                value = values[index] = value_of(index)
            sketch = sketches[i]
            if sketch.low is not None:
                value = max(value, sketch.low)
            if sketch.high is not None:
                value = min(value, sketch.high)
            out[i] = value
        return out

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


def sum_by_key(keys: np.ndarray, counts: np.ndarray) -> Part:
    """Counts added up per distinct key: (sorted distinct keys, their nonzero totals)."""
    import numpy as np

    low, high = int(keys.min()), int(keys.max())
    if high - low <= 4 * len(keys) + 1024:  # a dense count is cheaper than sorting
        totals = np.bincount(keys - low, weights=counts, minlength=high - low + 1)
        where = np.flatnonzero(totals)
        return where.astype(np.int64) + low, totals[where].astype(np.int64)
    distinct, slot = np.unique(keys, return_inverse=True)
    return distinct.astype(np.int64), np.bincount(slot, weights=counts).astype(np.int64)


# The stored form's punctuation as numpy's text reader wants it: numbers parted by commas.
_AS_NUMBERS = bytes.maketrans(b'{}":', b"   ,")


def parse_many(texts: Sequence[str | None]) -> list[tuple[Part, int, int, bool]]:
    """The stored forms `texts` read at once: per text (its part without `ZERO_KEY`, its zeros,
    its count, whether the part's keys are distinct and in order: PostgreSQL's jsonb text
    orders them by length first, so negative ones are put in order here). One numpy parse of
    all of them: `json.loads` of 54,000 stored sketches took ~2.7 s on the 2-CPU machine, this
    ~0.3 s. Falls back to `from_json` on any surprise."""
    import numpy as np

    n = len(texts)
    pairs = np.fromiter((t.count(":") if t else 0 for t in texts), dtype=np.int64, count=n)
    filled = [t for t in texts if t and ":" in t]
    flat: np.ndarray | None = None
    try:
        body = ",".join(filled).encode("ascii")
    except UnicodeEncodeError:
        body = b""
    # One object per text, its braces where they belong: the rest is numbers, commas, colons.
    if body.count(b"{") == len(filled) == body.count(b"}"):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            try:  # one pass of bytes.translate: str.replace twice cost as much as the parse
                flat = np.fromstring(body.translate(_AS_NUMBERS), dtype=np.int64, sep=",")
            except (ValueError, DeprecationWarning):
                flat = None
    if flat is None or len(flat) != 2 * int(pairs.sum()):
        return [_parsed_one(from_json(t)) for t in texts]
    keys, counts = flat[0::2].copy(), flat[1::2].copy()
    ends = np.cumsum(pairs)  # per text, one past its last pair
    totals = np.zeros(n, dtype=np.int64)
    has = pairs > 0
    if len(keys):
        totals[has] = np.add.reduceat(counts, (ends - pairs)[has])
    zeros = np.zeros(n, dtype=np.int64)
    at_zero = np.flatnonzero(keys == ZERO_KEY)
    if len(at_zero):  # taken out of the parts, counted apart
        owner = np.searchsorted(ends, at_zero, side="right")
        np.add.at(zeros, owner, counts[at_zero])
        keep = np.ones(len(keys), dtype=bool)
        keep[at_zero] = False
        keys, counts = keys[keep], counts[keep]
        ends = ends - np.cumsum(np.bincount(owner, minlength=n))
    starts = np.concatenate(([0], ends[:-1])) if n else ends

    def inside(at: np.ndarray) -> np.ndarray:
        """The texts of pair positions `at` that are not their text's first."""
        owner = np.searchsorted(ends, at, side="right")
        found: np.ndarray = owner[starts[owner] != at]
        return found

    later = np.flatnonzero(keys[1:] < keys[:-1]) + 1  # a key below the one before it
    for i in np.unique(inside(later)).tolist():
        a, b = int(starts[i]), int(ends[i])
        order = np.argsort(keys[a:b], kind="stable")
        keys[a:b], counts[a:b] = keys[a:b][order], counts[a:b][order]
    in_order = np.ones(n, dtype=bool)
    in_order[inside(np.flatnonzero(keys[1:] == keys[:-1]) + 1)] = False  # a key twice: added later
    flags, low, high = in_order.tolist(), starts.tolist(), ends.tolist()
    zeros_of, totals_of = zeros.tolist(), totals.tolist()
    return [
        ((keys[low[i] : high[i]], counts[low[i] : high[i]]), zeros_of[i], totals_of[i], flags[i])
        for i in range(n)
    ]


def _parsed_one(counts: dict[int, int]) -> tuple[Part, int, int, bool]:
    import numpy as np

    zeros = counts.pop(ZERO_KEY, 0)
    keys = np.fromiter(sorted(counts), dtype=np.int64, count=len(counts))
    vals = np.fromiter((counts[k] for k in keys.tolist()), dtype=np.int64, count=len(counts))
    return (keys, vals), zeros, zeros + int(vals.sum()), True


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
