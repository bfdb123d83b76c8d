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
  little). Memory is fixed: 192 × 3 numbers per signal, whatever the history.
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
  The residuals of healthy samples fill a window of their own (the flat baseline's size), and
  while a cycle holds the signal scores a sample's residual against that window with the same
  rank scores, spread and CUSUM as the flat baseline: the peak hour is compared with the peak
  hour, and the spread is that of the noise within an hour, not of the whole day.

Restart-safe: `state()` is the bins as plain JSON and `load()` takes them back; the residual
window is rebuilt, like the flat baseline, by the day of results a restart replays. Samples the
loaded bins already hold (up to their `learned_until`) are not counted twice.
"""

from __future__ import annotations

import math
from array import array
from typing import Any

from monitor.detect.stats import RollingWindow

DAY_BINS, WEEK_BINS = 24, 168
BIN_MEMORY = 240  # samples a bin remembers (an exponential weight of 1/240)
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

    Arrays of machine numbers (18 bytes a bin: a count of at most `BIN_MEMORY` in two bytes, a
    mean and a variance in eight), not lists of Python numbers (up to 72): 3 KB for a week's
    168 bins, at 3 signals × 2,000 targets."""

    __slots__ = ("mean", "n", "var")

    def __init__(self, k: int) -> None:
        self.n = array("H", bytes(2 * k))
        self.mean = array("d", bytes(8 * k))
        self.var = array("d", bytes(8 * k))

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
            array("H", bytes(2 * k)),
            array("d", bytes(8 * k)),
            array("d", bytes(8 * k)),
        )

    def dump(self) -> list[list[float]]:
        return [
            [c, round(m, 5), round(v, 6)]
            for c, m, v in zip(self.n, self.mean, self.var, strict=True)
        ]

    def take(self, rows: list[list[float]]) -> None:
        if len(rows) != len(self.n):
            raise ValueError(f"expected {len(self.n)} bins, got {len(rows)}")
        self.n = array("H", [min(max(int(r[0]), 0), BIN_MEMORY) for r in rows])
        self.mean = array("d", [float(r[1]) for r in rows])
        self.var = array("d", [float(r[2]) for r in rows])


class Seasonal:
    """The seasonal part of one timing signal's baseline (see the module docstring)."""

    __slots__ = (
        "_tested_hour",
        "day",
        "first",
        "last",
        "learned_until",
        "mode",
        "resid",
        "share",
        "week",
    )

    def __init__(self, window: int) -> None:
        self.day = Bins(DAY_BINS)
        self.week = Bins(WEEK_BINS)
        self.resid = RollingWindow(window)  # residuals of healthy samples against their bin
        self.first: float | None = None  # epoch seconds of the first sample learned
        self.last: float | None = None
        self.learned_until: float | None = None  # loaded bins hold every sample up to this
        self.mode = FLAT
        self.share = 0.0  # η² of the bins in use (of the hour of the day while flat)
        self._tested_hour = -1

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
        """Learn one healthy sample `x` (a log value) taken at `ts` (epoch seconds)."""
        hour = hour_of(ts)
        self.resid.add(self.residual(x, hour))
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
        self.mode = mode
        return mode

    def clear(self) -> None:
        self.day.clear()
        self.week.clear()
        self.resid.clear()
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
