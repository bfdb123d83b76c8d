"""Seasonal timing baselines: the hour of the day (or week) a probe ran at, once the target's
own healthy history shows that its timings follow the clock (`monitor.detect.seasonal`)."""

from __future__ import annotations

import json
import math
import random

from monitor.config.detection import DetectionConfig
from monitor.detect.engine import Detector
from monitor.detect.seasonal import FLAT, HOUR_OF_DAY, HOUR_OF_WEEK, Seasonal, day_bin, hour_of
from monitor.detect.stats import STEP, quantize
from monitor.detect.types import Reason, Status
from tests.factories import DAY, HOUR, MINUTE, T0, cyclic_stream

EPOCH = T0.timestamp()  # a Thursday, 00:00 UTC


def _learn(seasonal: Seasonal, minutes: int, level: object, seed: int = 3, start: int = 0) -> None:
    """One healthy log value a minute from minute `start` after T0: `level(minute)` plus noise
    of sd 0.3."""
    rng = random.Random(seed)
    for i in range(start, start + minutes):
        seasonal.add(level(i) + rng.gauss(0, 0.3), EPOCH + 60 * i)  # type: ignore[operator]


def _daily(i: int) -> float:
    return 0.3 * math.sin(2 * math.pi * i / 1440)


def test_a_daily_cycle_in_two_days_of_history_is_found() -> None:
    seasonal = Seasonal(1440)
    _learn(seasonal, 2 * 1440, _daily)
    assert seasonal.mode == HOUR_OF_DAY
    assert seasonal.share > 0.2


def test_noise_with_no_cycle_is_not_a_cycle() -> None:
    seasonal = Seasonal(1440)
    _learn(seasonal, 3 * 1440, lambda i: 0.0)
    assert seasonal.mode == FLAT
    assert seasonal.share < 0.05


def test_a_cycle_too_small_to_matter_stays_flat() -> None:
    # ±5 % over the day under 30 % noise: real, but it explains ~1 % of the variance.
    seasonal = Seasonal(1440)
    _learn(seasonal, 3 * 1440, lambda i: 0.05 * math.sin(2 * math.pi * i / 1440))
    assert seasonal.mode == FLAT


def test_less_than_a_day_of_history_is_never_a_cycle() -> None:
    seasonal = Seasonal(1440)
    _learn(seasonal, 20 * 60, lambda i: 0.6 * math.sin(2 * math.pi * i / 1440))
    assert seasonal.mode == FLAT


def test_a_weekly_pattern_takes_the_hour_of_the_week_after_two_weeks() -> None:
    # Slower at the day's peak, and much slower on weekdays than at weekends: the hour of the
    # week explains more than the hour of the day.
    def weekly(i: int) -> float:
        weekday = (3 + i // 1440) % 7  # T0 is a Thursday
        return _daily(i) + (0.5 if weekday < 5 else -0.5) * (1 + _daily(i))

    seasonal = Seasonal(1440)
    _learn(seasonal, 13 * 1440, weekly)
    assert seasonal.mode == HOUR_OF_DAY  # too few weeks yet: the hour of the day
    _learn(seasonal, 2 * 1440, weekly, seed=4, start=13 * 1440)
    assert seasonal.mode == HOUR_OF_WEEK


def test_a_daily_cycle_keeps_the_hour_of_the_day_after_weeks() -> None:
    seasonal = Seasonal(1440)
    _learn(seasonal, 15 * 1440, _daily)
    assert seasonal.mode == HOUR_OF_DAY


def test_a_sample_is_compared_with_its_own_hour() -> None:
    seasonal = Seasonal(1440)
    _learn(seasonal, 2 * 1440, _daily)
    peak, trough = T0 + 6 * HOUR, T0 + 18 * HOUR
    for ts, level in ((peak, 0.3), (trough, -0.3)):
        hour = hour_of(ts.timestamp())
        center = seasonal.center(hour)
        assert center is not None
        assert abs(center - level) < 0.08  # the bin's mean is its hour's level
        # A peak-hour sample at the peak's usual level is an ordinary residual.
        assert abs(seasonal.residual(level, hour)) < 0.08
    # A peak-level sample at the trough is 0.6 above its hour.
    assert seasonal.residual(0.3, hour_of(trough.timestamp())) > 0.5


def test_the_bins_survive_a_restart_and_are_not_counted_twice() -> None:
    seasonal = Seasonal(1440)
    _learn(seasonal, 2 * 1440, _daily)
    saved = json.loads(json.dumps(seasonal.state()))
    restored = Seasonal(1440)
    restored.load(saved)
    assert restored.mode == HOUR_OF_DAY
    assert max(abs(a - b) for a, b in zip(restored.day.mean, seasonal.day.mean, strict=True)) < 1e-4
    counts = list(restored.day.n)
    # The restart replays the last day of stored results: the bins hold them already.
    _learn(restored, 2 * 1440, _daily)
    assert list(restored.day.n) == counts
    assert len(restored.resid) == 1440  # the residual window is rebuilt by the replay
    # A sample after the saved ones is learned.
    restored.add(0.0, EPOCH + 2 * 86400 + 60)
    assert restored.day.n[day_bin(hour_of(EPOCH + 2 * 86400))] >= counts[0]


def test_a_state_of_another_version_is_ignored() -> None:
    seasonal = Seasonal(1440)
    seasonal.load({"version": 99, "day": [], "week": []})
    assert seasonal.mode == FLAT
    seasonal.load({"version": 1, "day": [[1, 0.0, 0.0]], "week": []})  # the wrong shape
    assert seasonal.mode == FLAT and sum(seasonal.day.n) == 0


def test_a_state_with_a_bin_past_what_four_bytes_hold_is_ignored() -> None:
    seasonal = Seasonal(1440)
    _learn(seasonal, 2 * 1440, _daily)
    state = json.loads(json.dumps(seasonal.state()))
    state["day"][3][1] = 1e300  # a hand-edited or corrupted row
    restored = Seasonal(1440)
    restored.load(state)
    assert restored.mode == FLAT and sum(restored.day.n) == 0  # learned again, not inf


def test_the_residuals_are_each_kept_sample_against_its_hour_as_the_bins_are_now() -> None:
    # The residuals are derived from the window's values and the hour each ran at: after the
    # ring has wrapped, and after a relearn, they are exactly what `residual` gives for each of
    # the samples the window holds.
    size = 500
    seasonal = Seasonal(size)
    rng = random.Random(8)
    kept: list[tuple[float, float]] = []
    for i in range(3 * 1440):
        if i == 1700:
            seasonal.clear()
            kept.clear()
        x, ts = _daily(i) + rng.gauss(0, 0.3), EPOCH + 60 * i
        seasonal.add(x, ts)
        kept = [*kept, (x, ts)][-size:]
    assert seasonal.mode == HOUR_OF_DAY
    # (each value as the window keeps it, in steps)
    expected = sorted(
        round(seasonal.residual(quantize(x) / STEP, hour_of(ts)) * STEP) for x, ts in kept
    )
    assert [round(v * STEP) for v in seasonal.resid.sorted_values()] == expected


def _alarms(config: DetectionConfig, trace: list) -> list:  # type: ignore[type-arg]
    detector = Detector(config, intervals={"openai/gpt-4o-mini": 60.0})
    return [t for t in detector.observe(trace) if t.new is Status.DEGRADED]


def test_the_peak_of_a_clean_daily_cycle_is_no_brownout() -> None:
    # Six days, peak hours 2.2× slower than the quietest, no brownout. One flat baseline of the
    # last day reads every peak as a slowdown; the hour-of-day baseline (on after a day) does not.
    trace = cyclic_stream(6 * 1440, amplitude=0.4)
    after_a_day = T0 + 2 * DAY
    assert not [t for t in _alarms(DetectionConfig(), trace) if t.ts >= after_a_day]
    flat = _alarms(DetectionConfig(seasonal="off"), trace)
    assert [t for t in flat if t.ts >= after_a_day], "the flat baseline saw no peak at all"


def test_a_slowdown_at_the_peak_of_a_daily_cycle_is_still_found() -> None:
    start = 4 * 1440 + 5 * 60  # 05:00 on day 4, an hour before the peak
    trace = cyclic_stream(
        5 * 1440, amplitude=0.4, slow_from=start, slow_until=start + 180, slow=2.0
    )
    alarms = [t for t in _alarms(DetectionConfig(), trace) if t.ts >= T0 + 2 * DAY]
    assert alarms, "the slowdown at the peak went unseen"
    first = alarms[0]
    assert T0 + start * MINUTE <= first.ts <= T0 + (start + 15) * MINUTE
    reason = first.reasons[0]
    assert reason in {"latency", "ttft", "throughput"}
    assert first.details[reason]["seasonal"] == HOUR_OF_DAY
    assert first.details[reason]["ratio"] > 1.5  # against the peak hour's own baseline


def test_seasonal_off_keeps_one_flat_baseline() -> None:
    detector = Detector(DetectionConfig(seasonal="off"), intervals={"openai/gpt-4o-mini": 60.0})
    detector.observe(cyclic_stream(3 * 1440))
    signal = detector.targets["openai/gpt-4o-mini"].metric(Reason.LATENCY)
    assert signal is not None and signal.seasonal is None


def test_seasonal_is_set_per_target() -> None:
    cfg = DetectionConfig.model_validate({"overrides": {"ollama": {"seasonal": "off"}}})
    assert cfg.for_target("ollama/llama3").seasonal == "off"
    assert cfg.for_target("openai/gpt-4o-mini").seasonal == "auto"
