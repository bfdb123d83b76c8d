"""Time in each status, from transitions, with maintenance taken out."""

from __future__ import annotations

from datetime import timedelta

from monitor.detect.types import Status
from monitor.reports.timeline import segments, status_time, stretches
from tests.factories import DAY, T0, flip

MINUTE = timedelta(minutes=1)


def test_a_target_down_43_minutes_in_30_days_is_99_900_percent_available() -> None:
    down_at = T0 + 10 * DAY
    parts = segments(
        Status.OPERATIONAL,
        [flip(down_at, "operational", "down"), flip(down_at + 43 * MINUTE, "down", "operational")],
        T0,
        T0 + 30 * DAY,
    )
    time = status_time(parts)
    assert time.down == 43 * 60
    assert time.availability is not None
    assert round(time.availability * 100, 3) == 99.900


def test_degraded_time_counts_as_available_but_is_reported() -> None:
    parts = segments(
        Status.OPERATIONAL,
        [
            flip(T0 + DAY, "operational", "degraded", reasons=("latency",)),
            flip(T0 + DAY + 2 * MINUTE * 30, "degraded", "operational"),
        ],
        T0,
        T0 + 2 * DAY,
    )
    time = status_time(parts)
    assert time.availability == 1.0
    assert time.degraded == 3600 and time.by_reason == {"latency": 3600}


def test_unknown_time_is_left_out_of_availability() -> None:
    parts = segments(
        Status.UNKNOWN,
        [
            flip(T0 + DAY, "unknown", "operational"),
            flip(T0 + 2 * DAY - 6 * MINUTE * 10, "operational", "down"),
        ],
        T0,
        T0 + 2 * DAY,
    )
    time = status_time(parts)
    assert time.unknown == 86400 and time.known == 86400
    assert time.availability == (86400 - 3600) / 86400


def test_a_maintenance_window_is_taken_out_of_both_sides() -> None:
    down_at = T0 + DAY
    parts = segments(
        Status.OPERATIONAL,
        [flip(down_at, "operational", "down"), flip(down_at + 60 * MINUTE, "down", "operational")],
        T0,
        T0 + 2 * DAY,
    )
    # 40 of the 60 minutes down fall in maintenance.
    window = (down_at - 30 * MINUTE, down_at + 40 * MINUTE)
    time = status_time(parts, [window])
    assert time.maintenance == 70 * 60
    assert time.down == 20 * 60
    assert time.known == 2 * 86400 - 70 * 60


def test_transitions_before_the_range_set_the_status_at_its_start() -> None:
    parts = segments(
        Status.UNKNOWN,
        [flip(T0 - DAY, "unknown", "down"), flip(T0 + DAY, "down", "operational")],
        T0,
        T0 + 2 * DAY,
    )
    assert [(p.status, p.seconds) for p in parts] == [
        (Status.DOWN, 86400),
        (Status.OPERATIONAL, 86400),
    ]


def test_consecutive_degraded_and_down_make_one_stretch_with_the_worst_status() -> None:
    parts = segments(
        Status.OPERATIONAL,
        [
            flip(T0 + MINUTE, "operational", "degraded", reasons=("latency",)),
            flip(T0 + 5 * MINUTE, "degraded", "down", reasons=("errors",)),
            flip(T0 + 9 * MINUTE, "down", "operational"),
        ],
        T0,
        T0 + DAY,
    )
    assert stretches(parts) == [(T0 + MINUTE, T0 + 9 * MINUTE, Status.DOWN, ("latency", "errors"))]
