"""SLOs now (`monitor.read.slo.slo_now`) and every surface that prints them: the API's
`/api/status`, the public status, the status page's data and the report over the same 30 days
give one attainment for one seeded SQLite store."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from dashboard import data
from monitor.api.public import public_status
from monitor.api.views import status_view
from monitor.read.slo import slo_now
from monitor.reports import fmt
from monitor.reports.build import build_report
from monitor.reports.render import render
from monitor.result import format_ts
from monitor.slo import PERIOD_S
from monitor.store import Store
from tests.factories import T0, burning_hour, seed, slo_config

NOW = T0 + timedelta(days=2)
TARGET = "openai/gpt-4o-mini"


def test_the_page_the_api_the_public_status_and_the_report_give_one_attainment(
    tmp_path: Path, store: Store
) -> None:
    # A day of probes, 1 in 720 failing (2 of 1,440): 99.861 % against 99.8 %.
    seed(store, burning_hour(NOW, fail_every=720, minutes=1440))
    config = slo_config(tmp_path, slo="99.8%")

    (availability, ttft) = slo_now(store, config, NOW)[TARGET]
    assert availability.objective.label == "availability 99.8%"
    assert (availability.compliance.bad, availability.compliance.total) == (2, 1440)
    assert availability.covered_s is not None and round(availability.covered_s) == 86400
    assert not availability.paging and not availability.ticket
    assert ttft.compliance.attainment == 1.0

    api = {t["target"]: t for t in status_view(store, config, NOW)["targets"]}
    shown = api[TARGET]["slos"][0]
    assert api["other/gpt-4o-mini"]["slos"] == []
    assert shown["covered"] == "1d" and shown["period"] == "30d"
    assert [b["severity"] for b in shown["burn"]] == ["page", "page", "ticket"]

    public = {t["target"]: t for t in public_status(store, config, NOW)["targets"]}
    open_to_all = public[TARGET]["slos"][0]
    assert set(open_to_all) == {
        "objective", "kind", "goal", "limit_ms", "period", "covered", "attainment", "met",
        "budget_left",
    }  # fmt: skip

    page = data.load(store, config, NOW)
    on_page = page.slos[TARGET][0].compliance

    report = build_report(store, config, NOW - timedelta(seconds=PERIOD_S), NOW)
    in_report = next(c for c in report.slos if c.objective == "availability 99.8%")

    printed = {
        fmt.pct(shown["attainment"], 3),
        fmt.pct(open_to_all["attainment"], 3),
        fmt.pct(on_page.attainment, 3),
        fmt.pct(in_report.attainment, 3),
    }
    assert printed == {"99.861 %"}
    assert "| availability 99.8% | 99.861 % | yes |" in render(report, "md")
    assert on_page.budget_left == in_report.budget_left
    assert round(shown["budget_left"], 6) == round(in_report.budget_left or 0, 6)


def test_a_fast_burn_shows_as_paging_and_the_alerts_open_burn_as_since(
    tmp_path: Path, store: Store
) -> None:
    from monitor.alerts.service import AlertService
    from monitor.read.slo import burning

    seed(store, burning_hour(NOW, fail_every=4))
    config = slo_config(tmp_path, {"name": "oncall", "urls": ["json://127.0.0.1:9/hook"]})
    before = slo_now(store, config, NOW)[TARGET][0]
    assert before.paging and before.open_since == {}
    firing = [b for b in before.burns if b.firing]
    # Every window holds the same hour, a quarter failing: the ticket pair fires too.
    assert [(b.rule.long_s, b.rule.short_s) for b in firing] == [
        (3600, 300),
        (21600, 1800),
        (259200, 21600),
    ]

    AlertService(store, config, lambda: NOW).on_burn(burning(store, config, NOW))
    entry = status_view(store, config, NOW)["targets"][0]["slos"][0]
    assert entry["paging"] is True
    assert entry["paged_since"] == format_ts(NOW)
    assert entry["ticket"] is True and entry["ticket_since"] is None  # no channel takes tickets
    public = public_status(store, config, NOW)["targets"][0]["slos"][0]
    assert "paging" not in public and "burn" not in public
