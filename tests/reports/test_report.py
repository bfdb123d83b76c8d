"""The report on a seeded database whose right answers are known by construction."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta

import pytest

from monitor.config import Config
from monitor.config.alerts import MaintenanceWindow
from monitor.detect.types import IncidentRecord, Status, Transition
from monitor.reports.build import build_report
from monitor.reports.source import RawResults
from monitor.reports.stats import wilson
from monitor.reports.statuses import RecordedStatuses
from monitor.result import Outcome, ProbeResult
from monitor.store import Store, open_store, retention
from tests.factories import DAY, T0, flip, probe, seed

MINUTE = timedelta(minutes=1)
OPENAI, ANTHROPIC = "openai/gpt-4o-mini", "anthropic/claude-haiku-4-5"
SINCE, UNTIL = T0, T0 + 30 * DAY
EVERY = 10 * MINUTE
N = 4320  # 30 days every 10 minutes


def openai_probes() -> list[ProbeResult]:
    out = []
    for i in range(N):
        ts = SINCE + i * EVERY
        if i % 100 == 0:
            out.append(probe(ts, outcome=Outcome.RATE_LIMITED, http_status=429, cost_usd=0.00001))
        elif i % 100 == 50:
            out.append(probe(ts, outcome=Outcome.TIMEOUT, cost_usd=0.00001))
        elif i % 100 == 25:
            out.append(
                probe(
                    ts,
                    outcome=Outcome.WRONG_ANSWER,
                    quality_ok=False,
                    answer="392",
                    latency_ms=800.0 + i % 7,
                    ttft_ms=200.0,
                )
            )
        else:
            out.append(
                probe(
                    ts,
                    latency_ms=100.0 + (i * 37) % 900,
                    ttft_ms=50.0 + (i * 11) % 450,
                    tokens_per_s=10.0 + i % 50,
                )
            )
    return out


def anthropic_probes() -> list[ProbeResult]:
    return [probe(SINCE + i * EVERY, ANTHROPIC, cost_usd=0.0001) for i in range(N)]


def history() -> RecordedStatuses:
    down = SINCE + 10 * DAY
    return RecordedStatuses(
        [
            flip(SINCE - DAY, "unknown", "operational"),
            flip(down, "operational", "down", reasons=("errors",)),
            flip(down + 43 * MINUTE, "down", "operational"),
            flip(SINCE - DAY, "unknown", "operational", ANTHROPIC),
            flip(SINCE + 3 * DAY, "operational", "degraded", ANTHROPIC, ("latency",)),
            flip(SINCE + 3 * DAY + 30 * MINUTE, "degraded", "operational", ANTHROPIC),
            flip(SINCE + 5 * DAY, "operational", "degraded", ANTHROPIC, ("ttft",)),
            flip(SINCE + 5 * DAY + 90 * MINUTE, "degraded", "operational", ANTHROPIC),
        ]
    )


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    """One database for the module: the tests only read it."""
    store = open_store(f"sqlite:///{tmp_path_factory.mktemp('seeded')}/brownout.db")
    seed(store, openai_probes() + anthropic_probes())
    yield store
    store.close()


def exact(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[round(q * (len(ordered) - 1))]


def test_availability_and_probe_figures_are_the_seeded_ones(seeded: Store) -> None:
    report = build_report(seeded, Config(), SINCE, UNTIL, statuses=history())
    openai = next(f for f in report.targets if f.name == OPENAI)
    assert openai.probes == N
    assert openai.down_s == 43 * 60 and openai.degraded_s == 0
    assert round(openai.time_availability * 100, 3) == 99.900  # type: ignore[operator]
    assert openai.success_rate == (N - 44 - 43 - 43) / N
    assert openai.rate_limited_share == 44 / N
    assert openai.canary_checked == N - 44 - 43
    assert openai.canary_pass_rate == (N - 44 - 43 - 43) / (N - 44 - 43)
    assert (openai.canary_ci_low, openai.canary_ci_high) == wilson(N - 130, N - 87)
    assert openai.cost_usd == pytest.approx(N * 0.00001)
    assert openai.incidents == 1 and openai.mttr_s == 43 * 60


def test_mttr_and_longest_incident_come_from_the_incidents(seeded: Store) -> None:
    report = build_report(seeded, Config(), SINCE, UNTIL, statuses=history())
    anthropic = next(f for f in report.targets if f.name == ANTHROPIC)
    assert anthropic.incidents == 2
    assert anthropic.mttr_s == 60 * 60
    assert anthropic.longest_incident_s == 90 * 60
    assert anthropic.time_availability == 1.0 and anthropic.degraded_s == 120 * 60
    assert [(i.target, i.duration_s, i.worst, i.reasons) for i in report.incidents] == [
        (ANTHROPIC, 1800, "degraded", ("latency",)),
        (ANTHROPIC, 5400, "degraded", ("ttft",)),
        (OPENAI, 2580, "down", ("errors",)),
    ]


def test_the_fleet_and_providers_add_up_their_targets(seeded: Store) -> None:
    report = build_report(seeded, Config(), SINCE, UNTIL, statuses=history())
    assert report.fleet.probes == 2 * N and report.fleet.targets == 2
    assert report.fleet.incidents == 3
    assert report.fleet.mttr_s == (43 + 30 + 90) * 60 / 3
    # Time-weighted over both targets: 43 minutes down out of 60 days of known time.
    assert report.fleet.time_availability == pytest.approx(1 - 43 / (60 * 24 * 60))
    assert [p.name for p in report.providers] == ["anthropic", "openai"]
    assert report.fleet.cost_usd == pytest.approx(sum(p.cost_usd for p in report.providers))


def test_percentiles_from_raw_results_are_within_one_percent(seeded: Store) -> None:
    answered = [p for p in openai_probes() if p.outcome.answered]
    report = build_report(
        seeded, Config(), SINCE, UNTIL, [OPENAI], source=RawResults(seeded), statuses=history()
    )
    openai = report.targets[0]
    for q, got in (
        (0.5, openai.latency_p50_ms),
        (0.95, openai.latency_p95_ms),
        (0.99, openai.latency_p99_ms),
    ):
        assert got == pytest.approx(exact([p.latency_ms or 0 for p in answered], q), rel=0.01)
    assert openai.ttft_p95_ms == pytest.approx(
        exact([p.ttft_ms or 0 for p in answered], 0.95), rel=0.01
    )
    assert openai.tokens_per_s_p50 == pytest.approx(
        exact([p.tokens_per_s or 0 for p in answered], 0.5), rel=0.01
    )


def test_percentiles_come_from_the_rollups_by_default_within_their_bin_width(seeded: Store) -> None:
    answered = [p for p in openai_probes() if p.outcome.answered]
    report = build_report(seeded, Config(), SINCE, UNTIL, [OPENAI], statuses=history())
    openai = report.targets[0]
    assert report.source == "rollups"
    # Rollup bins are a factor 1.25 wide; the estimate is their geometric middle.
    for q, got in ((0.5, openai.latency_p50_ms), (0.95, openai.latency_p95_ms)):
        assert got == pytest.approx(exact([p.latency_ms or 0 for p in answered], q), rel=0.12)
    assert openai.tokens_per_s_mean == pytest.approx(
        sum(p.tokens_per_s or 0 for p in answered) / len(answered)
    )
    assert openai.probes == N and openai.success_rate == (N - 130) / N


def test_a_range_that_does_not_start_on_a_day_boundary_counts_only_its_probes(
    seeded: Store,
) -> None:
    since, until = SINCE + 3 * DAY + 7 * MINUTE * 10 + MINUTE, SINCE + 9 * DAY + 5 * MINUTE
    want = sum(1 for p in anthropic_probes() if since <= p.ts < until)
    report = build_report(seeded, Config(), since, until, [ANTHROPIC], statuses=history())
    assert report.targets[0].probes == want


def test_maintenance_windows_are_excluded_and_the_report_says_so(seeded: Store) -> None:
    down = SINCE + 10 * DAY
    window = MaintenanceWindow(
        name="upgrade", targets=["openai"], start=down - 10 * MINUTE, end=down + 30 * MINUTE
    )
    report = build_report(seeded, Config(maintenance=[window]), SINCE, UNTIL, statuses=history())
    openai = next(f for f in report.targets if f.name == OPENAI)
    anthropic = next(f for f in report.targets if f.name == ANTHROPIC)
    assert openai.down_s == 13 * 60 and openai.maintenance_s == 40 * 60
    assert anthropic.maintenance_s == 0
    assert any("upgrade" in note and "excluded from availability" in note for note in report.notes)


def test_stored_incidents_are_used_when_the_detection_store_has_them(seeded: Store) -> None:
    open_one = IncidentRecord(OPENAI, UNTIL - 120 * MINUTE, Status.DOWN, None, ["errors"])
    statuses = RecordedStatuses(
        history().transitions(SINCE - 2 * DAY, None, None) or [], incidents=[open_one]
    )
    report = build_report(seeded, Config(), SINCE, UNTIL, statuses=statuses)
    assert [(i.target, i.end, i.duration_s) for i in report.incidents] == [
        (OPENAI, None, (UNTIL - open_one.start).total_seconds())
    ]
    # An open incident counts, and is the longest, but has no repair time yet.
    assert report.fleet.incidents == 1 and report.fleet.mttr_s is None
    assert report.fleet.longest_incident_s == 120 * 60


class NoStatusHistory(RecordedStatuses):
    """A detection store that keeps no transitions (as before detection existed)."""

    def transitions(
        self, since: datetime, until: datetime | None, targets: Sequence[str] | None
    ) -> list[Transition] | None:
        return None


def test_without_status_history_the_report_says_availability_is_not_shown(seeded: Store) -> None:
    report = build_report(seeded, Config(), SINCE, UNTIL, statuses=NoStatusHistory([]))
    assert report.fleet.probes == 2 * N and report.fleet.time_availability is None
    assert any("No status history" in note for note in report.notes)


def test_a_target_detection_never_saw_has_no_availability(seeded: Store) -> None:
    report = build_report(seeded, Config(), SINCE, UNTIL, statuses=RecordedStatuses([]))
    assert report.fleet.time_availability is None and report.fleet.unknown_s == 2 * 30 * 86400


def test_an_empty_range_is_a_report_with_nothing_in_it(seeded: Store) -> None:
    report = build_report(
        seeded, Config(), UNTIL + DAY, UNTIL + 2 * DAY, statuses=RecordedStatuses([])
    )
    assert report.targets == [] and report.fleet.probes == 0
    assert any("No probe results" in note for note in report.notes)


def test_a_report_past_raw_retention_still_counts_every_probe_from_the_rollups(
    store: Store,
) -> None:
    # Hourly probes of a target no longer in the config; raw results and minute rollups pruned.
    seed(store, [probe(SINCE + i * timedelta(hours=1), "old/model") for i in range(24 * 10)])
    pruned = retention.prune(store, UNTIL + 60 * DAY, raw=30 * 86400)
    assert pruned.raw == 240
    report = build_report(store, Config(), SINCE, SINCE + 10 * DAY, statuses=RecordedStatuses([]))
    assert [(t.name, t.probes) for t in report.targets] == [("old/model", 240)]
    assert report.targets[0].latency_p50_ms == 500.0


def test_a_recurring_maintenance_window_outside_the_range_is_not_mentioned(seeded: Store) -> None:
    nightly = MaintenanceWindow(name="nightly", cron="0 3 * * *", duration=1200.0)
    later = MaintenanceWindow(name="later", start=UNTIL + DAY, end=UNTIL + 2 * DAY)
    config = Config(maintenance=[nightly, later])
    report = build_report(seeded, config, SINCE, UNTIL, [ANTHROPIC], statuses=history())
    assert report.targets[0].maintenance_s == 30 * 20 * 60  # 20 minutes a night for 30 nights
    assert report.maintenance == ["nightly: at '0 3 * * *' (UTC) for 20m (all targets)"]


def test_the_report_grades_each_official_status_page_from_its_incidents(store: Store) -> None:
    from monitor.reports.render import render
    from monitor.statuspages.model import OfficialIncident
    from monitor.store import statuspages as official

    posted = OfficialIncident(
        "anthropic", "p1", "Slow responses", "resolved", "minor", SINCE + 3 * DAY + 12 * MINUTE
    )
    official.save_poll(store, "anthropic", [], [posted], SINCE + 4 * DAY)
    seed(store, anthropic_probes())
    config = Config.model_validate(
        {"statuspages": {"pages": {"anthropic": "https://status.example.com/api/v2/summary.json"}}}
    )

    report = build_report(store, config, SINCE, UNTIL, statuses=history())

    # Anthropic's two brownouts (30 and 90 minutes): one posted 12 minutes after brownout saw it.
    [grade] = report.official
    assert (grade.provider, grade.events, grade.posted, grade.never_posted) == (
        "anthropic",
        2,
        1,
        1,
    )
    assert (grade.median_lead_s, grade.grade) == (12 * 60, "C")
    md = render(report, "md")
    assert (
        "## Official status pages" in md
        and "| anthropic | anthropic | 2 | 1 | 1 | +12m | C |" in md
    )
    assert "Official status pages</h2>" in render(report, "html")
    assert render(report, "json").count('"grade": "C"') == 1


def test_without_status_pages_the_report_has_no_official_section(seeded: Store) -> None:
    from monitor.reports.render import render

    report = build_report(seeded, Config(), SINCE, UNTIL, statuses=history())
    assert report.official == [] and "Official status pages" not in render(report, "md")
