"""SLO compliance in the report, on a seeded SQLite store."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from monitor.reports.build import build_report
from monitor.reports.render import render
from monitor.store import Store
from tests.factories import T0, burning_hour, seed, slo_config


def test_the_report_gives_each_objectives_attainment_and_error_budget_left(
    tmp_path: Path, store: Store
) -> None:
    end = T0 + timedelta(days=1)
    # 1,440 probes over the day, 1 in 720 failing (2): 99.86 %, over a 99.9 % objective.
    seed(store, burning_hour(end, fail_every=720, minutes=1440))
    seed(store, burning_hour(end, "other/gpt-4o-mini", fail_every=0, minutes=1440))
    config = slo_config(tmp_path, slo="99.8%")
    report = build_report(store, config, T0, end)
    by_objective = {c.objective: c for c in report.slos}
    assert set(by_objective) == {"availability 99.8%", "TTFT p95 ≤ 2000 ms"}
    assert all(c.target == "openai/gpt-4o-mini" for c in report.slos)  # `other` has none
    availability = by_objective["availability 99.8%"]
    assert (availability.bad, availability.total, availability.met) == (2, 1440, True)
    # 2 failures of the 2.88 the budget allows: 30.6 % of it left.
    assert availability.budget_left is not None
    assert round(availability.budget_left, 3) == 0.306
    assert by_objective["TTFT p95 ≤ 2000 ms"].budget_left == 1.0

    markdown = render(report, "md")
    assert "## Service-level objectives" in markdown
    assert (
        "| openai/gpt-4o-mini | availability 99.8% | 99.861 % | yes | 30.5 % | 2 / 1,440 |"
        in markdown
    )
    assert "Service-level objectives" in render(report, "html")
    assert '"budget_left": 0.30' in render(report, "json")
