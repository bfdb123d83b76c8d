"""Detection's per-target state stays small: at 2,000 targets there are ~12,000 rolling windows
of up to 1,440 values and ~9,000 seasonal bin sets, so bytes per value decide the monitor's RSS
once the windows are full (hours after a start: bench/load.py measures only the first minutes).
Measured with tracemalloc, which counts every block allocated, Python floats included."""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable

from monitor.detect.seasonal import WEEK_BINS, Bins
from monitor.detect.stats import RateWindow, RollingWindow

SIZE = 1440  # the default baseline window (detection.latency.window and the others)


def _allocated(build: Callable[[], object]) -> int:
    """Bytes still allocated by `build()` while its result is alive."""
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        kept = build()
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert kept is not None
    return after - before


def test_a_full_rolling_window_takes_about_4_bytes_a_value() -> None:
    def build() -> RollingWindow:
        window = RollingWindow(SIZE)
        for i in range(2 * SIZE):
            window.add(100.0 + i * 0.37 % 50)  # distinct floats, as timings are
        return window

    # was ~56 bytes a value (deque + list + float objects), then 16 (two arrays of doubles)
    assert _allocated(build) < 5 * SIZE


def test_a_full_rate_window_takes_about_a_bit_an_observation() -> None:
    def build() -> RateWindow:
        window = RateWindow(SIZE, prior=0.01, weight=200)
        for i in range(2 * SIZE):
            window.add(i % 7 == 0)
        return window

    # a bit an observation and the growth of a bytearray; was ~8 bytes (a deque of bools), then 1
    assert _allocated(build) < SIZE // 4 + 100


def test_a_week_of_seasonal_bins_takes_18_bytes_a_bin() -> None:
    def build() -> Bins:
        bins = Bins(WEEK_BINS)
        for i in range(20 * WEEK_BINS):
            bins.add(i % WEEK_BINS, 100.0 + i * 0.37 % 50)
        return bins

    assert _allocated(build) < 23 * WEEK_BINS  # was up to 72 (lists of Python numbers), then 24
