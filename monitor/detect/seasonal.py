"""Seasonal timing baselines: the hour of the day (or of the week) a probe ran at, when the
target's own healthy history shows that its timings follow the clock.

A provider busy at its peak hours is slower then, every day; against a flat baseline that holds
the whole day the peak reads as a slowdown. `Seasonal` keeps, for one timing signal, robust
per-hour statistics of the healthy log values (the same samples the flat baseline learns, after
the same quarantine), and a test on them that decides whether the hours matter:

- **Bins.** 24 hour-of-day bins and 168 hour-of-week bins (UTC; the week starts Monday 00:00).
  Each holds an exponentially weighted mean and variance of its samples, with a memory of
  `BIN_MEMORY` samples (at one probe a minute: four days of a day bin, four weeks of a week bin),
  each sample clipped to 3 standard deviations of its bin first (one freak probe moves a bin by
  little). Memory is fixed: 192 × 3 numbers per signal (9 bytes a bin), whatever the history.
- **The cycle test.** The share of the variance of the samples that their bin explains,
  η² = between-bin variance / total variance (an analysis of variance on the bins). The hours
  matter when η² ≥ `MIN_SHARE` (10 %: the cycle's own spread is at least a third of the noise
  within an hour; below that the flat baseline's spread absorbs it at little cost) and η² is at
  least `CHANCE` times what noise alone gives on average, (k − 1) / N for k bins and N samples.
  It is only asked when every bin holds `MIN_PER_BIN` samples and the learned history spans a
  whole cycle: one day for the hour of the day, `WEEK_SPAN` (two weeks) for the hour of the week.
  It is asked again every hour; it stops holding below `MIN_SHARE` × `KEEP` (hysteresis).
- **Which bins.** The hour of the week when it passes and its share, less what chance gives
  (k − 1) / N, beats the hour of the day's by `WEEK_MARGIN`; else the hour of the day when it
  passes; else none, and the signal is judged on its flat baseline exactly as before.
- **Comparison.** Each sample is compared as its *residual*: its log value less its bin's mean.
  While a cycle holds the signal scores a sample's residual against the residuals of the healthy
  samples with the same rank scores, spread and CUSUM as the flat baseline: the peak hour is
  compared with the peak hour, and the spread is that of the noise within an hour, not of the
  whole day.
- **The residuals are derived, not kept.** The healthy samples are the flat baseline's own
  window (`values`, shared with it), and `Seasonal` keeps only the hour of the week each of them
  ran at (a byte a sample, aligned with the window's ring). The sorted residuals (`resid`) are
  computed from the two, each sample against its hour's bin *as the bins are now*, when asked,
  and again after every `REBUILD` new samples, and dropped while the signal is flat: most
  targets follow no clock, and a second window of residuals per signal was a fifth of
  detection's memory at 2,000 targets.

Restart-safe: `state()` is the bins as plain JSON and `load()` takes them back; the samples and
their hours are rebuilt, like the flat baseline, by the day of results a restart replays.
Samples the loaded bins already hold (up to their `learned_until`) are not counted twice.
"""

from __future__ import annotations

import math
from array import array
from typing import Any

from monitor.detect.stats import LIMIT, STEP, RollingWindow

DAY_BINS, WEEK_BINS = 24, 168
BIN_MEMORY = 240  # samples a bin remembers (an exponential weight of 1/240; a count in a byte)
MIN_PER_BIN = 20  # samples every bin needs before the test is asked
MIN_SHARE = 0.10  # the share of variance the hours must explain
KEEP = 0.7  # a cycle found holds until its share falls below MIN_SHARE × KEEP
CHANCE = 3.0  # ... and at least this many times what chance gives, (k - 1) / N
WEEK_MARGIN = 0.02  # the hour of the week must explain this much more than the hour of the day
DAY_SPAN = (
    86400.0 - 3600.0
)  # a whole day of history: each hour seen once (a day, less its last hour)
WEEK_SPAN = 14 * 86400.0  # two weeks: each hour of the week seen twice
CLIP = 3.0  # a sample is clipped to this many standard deviations of its bin (once it has 10)
FLAT, HOUR_OF_DAY, HOUR_OF_WEEK = "", "hour_of_day", "hour_of_week"
STATE_VERSION = 1
REBUILD = 10  # new samples after which the residuals are computed again (the spread's pace)


def hour_of(epoch_s: float) -> int:
    """Hours since the epoch (UTC) of a time in epoch seconds."""
    return int(epoch_s // 3600)


def day_bin(hour: int) -> int:
    return hour % DAY_BINS


def week_bin(hour: int) -> int:
    """The hour of the week, 0 at Monday 00:00 UTC (the epoch fell on a Thursday)."""
    return (hour + 72) % WEEK_BINS


class Bins:
    """k bins, each an exponentially weighted count, mean and variance of its samples.

    Arrays of machine numbers (9 bytes a bin: a count of at most `BIN_MEMORY` in a byte, a mean
    and a variance as four-byte floats, 7 significant digits of log values that the state
    stores to 5), not lists of Python numbers (up to 72): 1.5 KB for a week's 168 bins, at
    3 signals × 2,000 targets."""

    __slots__ = ("mean", "n", "var")

    def __init__(self, k: int) -> None:
        self.n = array("B", bytes(k))
        self.mean = array("f", bytes(4 * k))
        self.var = array("f", bytes(4 * k))

    def add(self, k: int, x: float) -> None:
        n = self.n[k]
        mean = self.mean[k]
        if n >= 10:
            limit = CLIP * math.sqrt(self.var[k])
            x = min(mean + limit, max(mean - limit, x))
        n = min(n + 1, BIN_MEMORY)
        w = 1.0 / n
        d = x - mean
        self.mean[k] = mean + w * d
        self.var[k] = (1.0 - w) * (self.var[k] + w * d * d)
        self.n[k] = n

    def share(self) -> tuple[float, float] | None:
        """(η², its chance level (k - 1) / N) over the bins, or None while a bin holds fewer
        than `MIN_PER_BIN` samples."""
        n = self.n
        if min(n) < MIN_PER_BIN:
            return None
        total = sum(n)
        grand = sum(c * m for c, m in zip(n, self.mean, strict=True)) / total
        between = sum(c * (m - grand) ** 2 for c, m in zip(n, self.mean, strict=True))
        within = sum(c * v for c, v in zip(n, self.var, strict=True))
        if between + within <= 0:
            return None
        return between / (between + within), (len(n) - 1) / total

    def center(self, k: int) -> float | None:
        """The bin's mean, once it has a few samples."""
        return self.mean[k] if self.n[k] >= 5 else None

    def clear(self) -> None:
        k = len(self.n)
        self.n, self.mean, self.var = (
            array("B", bytes(k)),
            array("f", bytes(4 * k)),
            array("f", bytes(4 * k)),
        )

    def dump(self) -> list[list[float]]:
        return [
            [c, round(m, 5), round(v, 6)]
            for c, m, v in zip(self.n, self.mean, self.var, strict=True)
        ]

    def take(self, rows: list[list[float]]) -> None:
        if len(rows) != len(self.n):
            raise ValueError(f"expected {len(self.n)} bins, got {len(rows)}")
        n = array("B", [min(max(int(r[0]), 0), BIN_MEMORY) for r in rows])
        mean = array("f", [float(r[1]) for r in rows])
        var = array("f", [float(r[2]) for r in rows])
        if not all(map(math.isfinite, mean)) or not all(map(math.isfinite, var)):
            raise ValueError("a bin's mean or variance is not a finite four-byte float")
        self.n, self.mean, self.var = n, mean, var


class Seasonal:
    """The seasonal part of one timing signal's baseline (see the module docstring).

    `values` is the window of healthy log values the residuals are derived from: the flat
    baseline's own, which its owner adds to before calling `add` (a `Seasonal` made without
    one keeps its own)."""

    __slots__ = (
        "_hours",
        "_owns",
        "_resid",
        "_stale",
        "_tested_hour",
        "day",
        "first",
        "last",
        "learned_until",
        "mode",
        "share",
        "values",
        "week",
    )

    def __init__(self, window: int, values: RollingWindow | None = None) -> None:
        self.day = Bins(DAY_BINS)
        self.week = Bins(WEEK_BINS)
        self._owns = values is None
        self.values = RollingWindow(window) if values is None else values
        # The hour of the week of each of `values`, in the same place of the same ring.
        self._hours = array("B")
        self._resid: RollingWindow | None = None  # the sorted residuals, while they are used
        self._stale = 0  # samples added since they were computed
        self.first: float | None = None  # epoch seconds of the first sample learned
        self.last: float | None = None
        self.learned_until: float | None = None  # loaded bins hold every sample up to this
        self.mode = FLAT
        self.share = 0.0  # η² of the bins in use (of the hour of the day while flat)
        self._tested_hour = -1

    @property
    def resid(self) -> RollingWindow:
        """The residuals of the healthy samples against their hour's bin, sorted (a window
        with no ring: read it, do not add to it). Computed when asked and again after every
        `REBUILD` new samples, not kept while the signal is flat."""
        found = self._resid
        if found is None or self._stale >= REBUILD:
            found = self._resid = self._residuals()
            self._stale = 0
        return found

    def _residuals(self) -> RollingWindow:
        import numpy as np  # here, not at import: only a signal whose hours matter gets here

        # Each hour of the week's center, as `residual` picks it: its week bin's mean (with the
        # hour of the week), else its day bin's, else the mean of every sample.
        day = np.frombuffer(self.day.mean, dtype=np.float32).astype(np.float64)
        day = np.where(np.frombuffer(self.day.n, dtype=np.uint8) >= 5, day, self._grand())
        centers = np.concatenate((day,) * (WEEK_BINS // DAY_BINS))  # week bin k: day bin k % 24
        if self.mode == HOUR_OF_WEEK:
            week = np.frombuffer(self.week.mean, dtype=np.float32).astype(np.float64)
            centers = np.where(np.frombuffer(self.week.n, dtype=np.uint8) >= 5, week, centers)
        steps = np.frombuffer(self.values.ring, dtype=np.int16)
        hours = np.frombuffer(self._hours, dtype=np.uint8)
        n = min(len(steps), len(hours))  # always equal: both grow and clear together
        q = np.rint(steps[:n] - (centers * STEP)[hours[:n]])
        np.minimum(np.maximum(q, -LIMIT, out=q), LIMIT, out=q)  # what two bytes hold
        q16 = q.astype(np.int16)
        q16.sort(kind="stable")  # a radix sort, for two-byte integers
        out = RollingWindow(self.values.size)
        out.take_sorted(q16.tobytes())
        return out

    def center(self, hour: int) -> float | None:
        """The mean log value of `hour`'s bin in the bins that the cycle test chose; None while
        flat (or when that bin is still nearly empty)."""
        if self.mode == HOUR_OF_WEEK:
            return self.week.center(week_bin(hour))
        if self.mode == HOUR_OF_DAY:
            return self.day.center(day_bin(hour))
        return None

    def residual(self, x: float, hour: int) -> float:
        """`x` less the best bin mean known for its hour (week, day, or none yet)."""
        c: float | None = None
        if self.mode == HOUR_OF_WEEK:
            c = self.week.center(week_bin(hour))
        if c is None:
            c = self.day.center(day_bin(hour))
        return x - c if c is not None else x - self._grand()

    def _grand(self) -> float:
        n = self.day.n
        total = sum(n)
        if not total:
            return 0.0
        return sum(c * m for c, m in zip(n, self.day.mean, strict=True)) / total

    def add(self, x: float, ts: float) -> None:
        """Learn one healthy sample `x` (a log value) taken at `ts` (epoch seconds), which the
        owner of `values` has just added to them."""
        hour = hour_of(ts)
        if self._owns:
            self.values.add(x)
        hours = self._hours
        if len(hours) < self.values.size:
            hours.append(week_bin(hour))
        else:  # the ring is full: the new sample took the place the window's head left
            hours[self.values.head - 1] = week_bin(hour)
        self._stale += 1
        if self.learned_until is not None and ts <= self.learned_until:
            return  # the loaded bins hold it already (a restart replaying stored results)
        self.day.add(day_bin(hour), x)
        self.week.add(week_bin(hour), x)
        if self.first is None:
            self.first = ts
        self.last = ts
        if hour != self._tested_hour:
            self._tested_hour = hour
            self.test()

    def test(self) -> str:
        """Decide which bins apply (the cycle test of the module docstring); returns the mode."""
        span = (self.last - self.first) if self.first is not None and self.last else 0.0
        day = self.day.share() if span >= DAY_SPAN else None
        week = self.week.share() if span >= WEEK_SPAN else None
        self.share = day[0] if day else 0.0

        def passes(found: tuple[float, float] | None, mode: str) -> bool:
            if found is None:
                return False
            share, chance = found
            floor = MIN_SHARE * (KEEP if self.mode == mode else 1.0)
            return share >= floor and share >= CHANCE * chance

        mode = FLAT
        if passes(day, HOUR_OF_DAY):
            mode = HOUR_OF_DAY
        if week is not None and passes(week, HOUR_OF_WEEK):
            excess = week[0] - week[1]
            if day is None or mode == FLAT or excess >= day[0] - day[1] + WEEK_MARGIN:
                mode = HOUR_OF_WEEK
                self.share = week[0]
        if mode != self.mode or mode == FLAT:
            self._resid = None  # against other bins now, or not used
        self.mode = mode
        return mode

    def clear(self) -> None:
        """Forget everything learned; the owner of `values` clears them too."""
        self.day.clear()
        self.week.clear()
        if self._owns:
            self.values.clear()
        del self._hours[:]
        self._resid = None
        self.first = self.last = self.learned_until = None
        self.mode, self.share, self._tested_hour = FLAT, 0.0, -1

    def state(self) -> dict[str, Any]:
        """The bins, as plain JSON (what a restart needs beyond the replayed day)."""
        return {
            "version": STATE_VERSION,
            "first": self.first,
            "last": self.last,
            "day": self.day.dump(),
            "week": self.week.dump(),
        }

    def load(self, state: dict[str, Any]) -> None:
        """Take the bins of `state()` back; samples up to its `last` are not counted again.
        A state of another version or shape is ignored (the bins are learned again)."""
        if state.get("version") != STATE_VERSION:
            return
        try:
            self.day.take(state["day"])
            self.week.take(state["week"])
        except (KeyError, TypeError, ValueError, IndexError, OverflowError):
            self.day.clear()
            self.week.clear()
            return
        self.first, self.last = state.get("first"), state.get("last")
        self.learned_until = self.last
        self.test()
