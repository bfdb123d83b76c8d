"""Detection's per-target state stays small: at 2,000 targets there are ~6,000 rolling windows
of up to 1,440 values and ~6,000 seasonal bin sets, so bytes per value decide the monitor's RSS
once the windows are full (hours after a start: bench/load.py measures only the first minutes).
Measured with tracemalloc, which counts every block allocated, Python floats included."""

from __future__ import annotations

import math
import random
import tracemalloc
from collections.abc import Callable
from datetime import timedelta

from monitor.config.detection import DetectionConfig, MetricConfig, ThroughputConfig
from monitor.detect.metrics import MetricSignal, metric_signals
from monitor.detect.model_change import ModelSignal
from monitor.detect.rates import ErrorsSignal, QualitySignal, ToolCallsSignal
from monitor.detect.seasonal import FLAT, HOUR_OF_DAY, WEEK_BINS, Bins
from monitor.detect.signal import Signal
from monitor.detect.stats import RateWindow, RollingWindow
from monitor.detect.target import TargetDetector
from monitor.result import Outcome, ProbeResult
from tests.factories import T0, drift_probe, minute_probe, probe

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


def test_a_week_of_seasonal_bins_takes_9_bytes_a_bin() -> None:
    def build() -> Bins:
        bins = Bins(WEEK_BINS)
        for i in range(20 * WEEK_BINS):
            bins.add(i % WEEK_BINS, 100.0 + i * 0.37 % 50)
        return bins

    # a count in a byte, a mean and a variance in four; was up to 72 (lists of Python numbers),
    # then 18 (a two-byte count, doubles)
    assert _allocated(build) < 9 * WEEK_BINS + 700  # the three arrays' own headers


def _full_signal(cycle: float) -> MetricSignal:
    """A latency signal (seasonal bins on, the default window) fed two days of healthy probes a
    minute, with a daily cycle of `cycle` in log space (0: none)."""
    signal = metric_signals(
        MetricConfig(), MetricConfig(), ThroughputConfig(), threshold=8.0, seasonal=True
    )[0]
    rng = random.Random(5)
    for i in range(2 * 1440):
        level = cycle * math.sin(2 * math.pi * i / 1440) + rng.gauss(0, 0.1)
        signal.observe(minute_probe(i, latency_ms=800 * math.exp(level)))
    return signal


def test_a_flat_signal_with_a_full_window_keeps_one_window() -> None:
    # The seasonal residuals are derived from the baseline's own values and their hours (a byte
    # a sample) and not kept while no cycle holds: most targets follow no clock.
    signal = _full_signal(0.0)
    assert signal.seasonal is not None and signal.seasonal.mode == FLAT
    # one window of 4 bytes a value, the hours in a byte, the bins (~2.8 KB) and the small
    # parts; was 21.8 KB with a second window of residuals and deques of floats and tuples
    assert _allocated(lambda: _full_signal(0.0)) < 4 * SIZE + SIZE + 6_000


def test_a_signal_whose_hours_matter_keeps_the_sorted_residuals_only() -> None:
    signal = _full_signal(0.5)
    assert signal.seasonal is not None and signal.seasonal.mode == HOUR_OF_DAY
    # and, while the cycle holds, the residuals sorted, 2 bytes a value (was 21.8 KB too)
    assert _allocated(lambda: _full_signal(0.5)) < 4 * SIZE + SIZE + 2 * SIZE + 6_500


def _fed(signal: Signal, results: list[ProbeResult]) -> Signal:
    for result in results:
        signal.observe(result)
    return signal


def _mixed(n: int) -> list[ProbeResult]:
    """`n` probes a minute apart: a failure every 7th, a wrong answer every 11th, a 429 every
    13th, the others answered right."""
    out = []
    for i in range(n):
        ts = T0 + timedelta(minutes=i)
        if i % 7 == 0:
            out.append(probe(ts, outcome=Outcome.SERVER_ERROR))
        elif i % 11 == 0:
            out.append(probe(ts, outcome=Outcome.WRONG_ANSWER))
        elif i % 13 == 0:
            out.append(probe(ts, outcome=Outcome.RATE_LIMITED))
        else:
            out.append(probe(ts))
    return out


def test_a_rate_signal_keeps_its_recent_and_quarantined_samples_as_bits() -> None:
    cfg = DetectionConfig()
    results = _mixed(200)
    _fed(ErrorsSignal(cfg.errors, 11.0, 60.0, 8.0), results)  # the one-time allocations
    errors = _allocated(lambda: _fed(ErrorsSignal(cfg.errors, 11.0, 60.0, 8.0), results))
    quality = _allocated(lambda: _fed(QualitySignal(cfg.quality, 11.0, 8.0), results))
    # 570 and 451 bytes; were 3.2 KB and 3.1 KB: two deques (the newest 30 or 50 samples, the
    # 10 in quarantine) of 1.2 KB or more, an incident's list and the llrs' tuple
    assert errors < 800
    assert quality < 600


def test_the_tool_calls_signal_keeps_only_the_words_of_its_recent_failures() -> None:
    cfg = DetectionConfig()
    checks = ["ok", "ok", "schema_mismatch", "ok", "invalid_json"]
    results = [probe(T0 + timedelta(minutes=i), tool_check=checks[i % 5]) for i in range(200)]
    _fed(ToolCallsSignal(cfg.tool_calls, 11.0, 8.0), results)  # the one-time allocations
    signal = ToolCallsSignal(cfg.tool_calls, 11.0, 8.0)
    used = _allocated(lambda: _fed(signal, results))
    assert signal.details()["failures"] == {"invalid_json": 10, "schema_mismatch": 10}
    # 224 bytes for the 20 failures among its 50 newest samples; was 1.6 KB: the words of all
    # 50 in a deque (and the deques of bits)
    assert used < 500


def _allocated_in(build: Callable[[], object], filename: str) -> int:
    """Bytes still allocated at lines of `filename` (a module of monitor/detect) by `build()`
    while its result is alive: what that module's own code keeps."""
    tracemalloc.start()
    try:
        kept = build()
        where = tracemalloc.Filter(True, f"*/monitor/detect/{filename}")
        snapshot = tracemalloc.take_snapshot().filter_traces([where])
    finally:
        tracemalloc.stop()
    assert kept is not None
    return sum(stat.size for stat in snapshot.statistics("filename"))


def test_a_target_detector_keeps_its_flap_guard_entries_in_a_list_and_one_prior_a_tier() -> None:
    def flapping() -> TargetDetector:
        detector = TargetDetector(
            "openai/gpt-4o-mini", DetectionConfig(), 60.0, T0, prior=lambda reason, tier: None
        )
        for i in range(60):  # failing 4 minutes in 20: held by the flap guard
            outcome = Outcome.SERVER_ERROR if 10 <= i % 20 < 14 else Outcome.OK
            detector.observe(probe(T0 + timedelta(minutes=i), outcome=outcome))
        return detector

    flapping()  # the one-time allocations
    detector = flapping()
    assert "flapping" in detector.status.details
    # 2.4 KB (the signals' objects, the status and its details); was 3.6 KB: the entries in a
    # deque (760 bytes), a prior (a closure) for each of a tier's three timing signals
    assert _allocated_in(flapping, "target.py") < 2800


def test_a_drift_canarys_newest_answers_are_a_list_trimmed_to_the_reference() -> None:
    rng = random.Random(5)
    results = [drift_probe(i, rng) for i in range(200)]
    cfg = DetectionConfig().model_change

    def build() -> ModelSignal:
        signal = ModelSignal(cfg)
        for result in results:
            signal.observe(result)
        return signal

    build()  # the one-time allocations (the drift tests' among them)
    assert len(build().drifts["drift"].recent) == cfg.reference
    # 952 bytes kept by model_change.py; was 2.0 KB: the newest 30 answers in a deque
    assert _allocated_in(build, "model_change.py") < 1300
