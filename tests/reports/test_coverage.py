"""A report over a range longer than its data says how much of the range it covers."""

from __future__ import annotations

import json

from monitor.config import Config
from monitor.detect.types import Status, Transition
from monitor.reports import build_report
from monitor.reports.render import render
from monitor.reports.statuses import RecordedStatuses
from monitor.store import Store
from tests.factories import DAY, T0, probe, seed

TARGET = "openai/gpt-4o-mini"


def test_a_30_day_report_over_3_days_of_history_says_3_d_of_30_d(store: Store) -> None:
    until = T0 + 30 * DAY
    start = until - 3 * DAY  # the monitor began three days before the end of the range
    seed(store, [probe(start + i * DAY / 24) for i in range(72)])
    history = RecordedStatuses(
        [
            Transition(start, TARGET, Status.UNKNOWN, Status.OPERATIONAL),
            Transition(until - DAY, TARGET, Status.OPERATIONAL, Status.DOWN, ["errors"]),
            Transition(until - DAY + DAY / 100, TARGET, Status.DOWN, Status.OPERATIONAL),
        ]
    )
    report = build_report(store, Config(), T0, until, statuses=history)

    row = report.targets[0]
    assert row.coverage_s == 3 * 86400 and row.range_s == 30 * 86400
    assert row.time_availability is not None and 0.99 < row.time_availability < 1
    md = render(report, "md")
    assert "over 3.0 d of 30 d" in md and "Time-weighted availability" in md
    assert "over 3.0 d of 30 d" in render(report, "html")
    data = json.loads(render(report, "json"))
    assert data["fleet"]["coverage_s"] == 3 * 86400 and data["fleet"]["range_s"] == 30 * 86400
    assert "availability" not in data["fleet"]  # only the time-weighted one, named as such
