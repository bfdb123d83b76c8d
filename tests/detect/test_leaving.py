"""Leaving a brownout takes evidence on the same footing as entering it: a 3-hour brownout of
10 % or 30 % errors stays one incident, and its end is still seen."""

from __future__ import annotations

import pytest

from monitor.config.detection import DetectionConfig
from monitor.detect.engine import replay
from monitor.detect.types import Status
from monitor.result import Outcome
from tests.factories import MINUTE, T0, healthy_stream, minute_probe

WARM = 1440  # a healthy day first
EPISODE = 180  # three hours at one probe a minute
SEEDS = range(30)


def _episode(rate: float, seed: int) -> tuple[int | None, bool, int | None]:
    """(probe of detection, stayed one incident, probes from the episode's end to operational)."""
    results = (
        healthy_stream(0, WARM, seed=seed, error_rate=0.005)
        + healthy_stream(WARM, EPISODE, seed=seed, error_rate=rate)
        + healthy_stream(WARM + EPISODE, 300, seed=seed, error_rate=0.005)
    )
    index = [(t, int((t.ts - T0) / MINUTE)) for t in replay(results)]
    during = [(t, i) for t, i in index if WARM <= i < WARM + EPISODE]
    alarms = [i for t, i in during if t.new in (Status.DEGRADED, Status.DOWN)]
    if not alarms:
        return None, True, None
    whole = not any(t.new is Status.OPERATIONAL for t, i in during if i > alarms[0])
    back = [i for t, i in index if i >= WARM + EPISODE and t.new is Status.OPERATIONAL]
    return alarms[0], whole, (back[0] - (WARM + EPISODE - 1)) if back else None


@pytest.mark.parametrize("rate", [0.10, 0.30])
def test_a_three_hour_brownout_of_errors_stays_one_incident_and_its_end_is_seen(
    rate: float,
) -> None:
    episodes = [_episode(rate, seed) for seed in SEEDS]
    detected = [e for e in episodes if e[0] is not None]
    assert len(detected) >= len(SEEDS) - 1
    assert [whole for _, whole, _ in detected] == [True] * len(detected)
    ends = [end for _, _, end in detected]
    assert all(end is not None and end <= 200 for end in ends), ends


def test_the_leaving_threshold_is_derived_like_the_entering_one() -> None:
    cfg = DetectionConfig()
    assert cfg.leave_threshold(60) == pytest.approx(8.19, abs=0.01)  # ln(180 / 5 %)
    assert cfg.leave_threshold(30) > cfg.leave_threshold(60)
    assert cfg.leave_threshold(60, per_interval=3) == pytest.approx(cfg.leave_threshold(20))


def test_a_burst_of_failures_inside_a_brownout_does_not_let_it_end_on_half_the_evidence() -> None:
    # A 30 % brownout, called, then a run of failures (`down`), then 20 clean probes: a 30 %
    # brownout makes that by chance; only an outage that began the incident may end that soon.
    brownout = "F..F.F...F..F.F..FF..F...F.F..F.F..F...F..F.F...F..F..F.F...F"  # 30 %
    pattern = brownout + "F" * 15 + "." * 14 + "F..F.F"
    results = healthy_stream(0, WARM, error_rate=0.005)
    for k, mark in enumerate(pattern):
        if mark == "F":
            results.append(minute_probe(WARM + k, outcome=Outcome.SERVER_ERROR, http_status=500))
        else:
            results += healthy_stream(WARM + k, 1)
    moves = [t.new for t in replay(results) if int((t.ts - T0) / MINUTE) >= WARM]
    assert Status.DOWN in moves
    assert Status.OPERATIONAL not in moves
