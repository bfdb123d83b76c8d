"""The report's regions: per-region rows per target and `regions=` (`brownout report --region`),
on a SQLite store seeded with two regions whose figures are known by construction."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from monitor.cli import main
from monitor.config import Config
from monitor.reports.build import build_report
from monitor.reports.render import render
from monitor.store import Store
from tests.factories import DAY, HOUR, MINUTE, T0, TARGETS, regional_probes, seed

OPENAI, ANTHROPIC = TARGETS[0], TARGETS[1]
# eu-west: fast, every 10th probe fails; us-east: slow, nothing fails.
REGIONS = {"eu-west": (200.0, 10), "us-east": (900.0, 0)}
N = 3 * 24 * 6  # three days, every 10 minutes
# Not on whole days or hours: the report reads day, hour and minute rollups and raw edges.
SINCE, UNTIL = T0 + 95 * MINUTE, T0 + 2 * DAY + 7 * HOUR + 25 * MINUTE


@pytest.fixture
def regional(store: Store) -> Store:
    probes = regional_probes(OPENAI, T0, N, 10 * MINUTE, REGIONS)
    probes += regional_probes(ANTHROPIC, T0, N, 10 * MINUTE, {"eu-west": (300.0, 0)})
    seed(store, sorted(probes, key=lambda p: p.ts))
    return store


def expected_probes() -> int:
    """Probes of one region of OPENAI inside [SINCE, UNTIL)."""
    return sum(1 for i in range(N) if SINCE <= T0 + i * 10 * MINUTE < UNTIL)


def test_each_target_has_a_row_per_region_with_that_regions_figures(regional: Store) -> None:
    report = build_report(regional, Config(), SINCE, UNTIL)
    rows = {(r.name, r.region): r for r in report.regions}
    assert set(rows) == {(OPENAI, "eu-west"), (OPENAI, "us-east"), (ANTHROPIC, "eu-west")}
    eu, us = rows[(OPENAI, "eu-west")], rows[(OPENAI, "us-east")]
    n = expected_probes()
    assert eu.probes == us.probes == n
    failed = sum(1 for i in range(N) if SINCE <= T0 + i * 10 * MINUTE < UNTIL and i % 10 == 0)
    assert eu.probe_availability == pytest.approx(1 - failed / n)
    assert us.probe_availability == 1.0
    # Sketches keep 1 % and clamp to the extremes: one value a region reads back exact.
    assert eu.ttft_p50_ms == pytest.approx(200.0) and eu.ttft_p95_ms == pytest.approx(200.0)
    assert us.ttft_p95_ms == pytest.approx(900.0) and us.latency_p99_ms == pytest.approx(1800.0)
    # The target's own row is both regions together.
    (target,) = [r for r in report.targets if r.name == OPENAI]
    assert target.probes == 2 * n


def test_a_region_filter_keeps_only_that_regions_probes(regional: Store) -> None:
    report = build_report(regional, Config(), SINCE, UNTIL, regions=["us-east"])
    assert [t.name for t in report.targets] == [OPENAI]
    (target,) = report.targets
    assert target.probes == expected_probes()
    assert target.ttft_p50_ms == pytest.approx(900.0)
    assert [(r.name, r.region) for r in report.regions] == [(OPENAI, "us-east")]
    assert report.selected_regions == ["us-east"]
    assert any("from us-east only" in note for note in report.notes)


def test_one_region_has_no_region_section(store: Store) -> None:
    seed(store, regional_probes(OPENAI, T0, 12, 10 * MINUTE, {"eu-west": (200.0, 0)}))
    report = build_report(store, Config(), T0, T0 + DAY)
    assert report.regions == []
    assert "## By region" not in render(report, "md")


def test_every_format_carries_the_region_rows(regional: Store) -> None:
    report = build_report(regional, Config(), SINCE, UNTIL)
    md = render(report, "md")
    assert "## By region" in md
    assert f"| {OPENAI} | us-east | {expected_probes():,} | 100.000 % |" in md
    html = render(report, "html")
    assert "<h2>By region</h2>" in html and "<td>us-east</td>" in html
    rows = list(csv.DictReader(io.StringIO(render(report, "csv"))))
    regional_rows = [r for r in rows if r["scope"] == "region"]
    assert {(r["name"], r["region"]) for r in regional_rows} == {
        (OPENAI, "eu-west"),
        (OPENAI, "us-east"),
        (ANTHROPIC, "eu-west"),
    }
    (us,) = [r for r in regional_rows if r["region"] == "us-east"]
    assert float(us["ttft_p50_ms"]) == pytest.approx(900.0)
    data = json.loads(render(report, "json"))
    assert {(r["name"], r["region"]) for r in data["regions"]} == {
        (r["name"], r["region"]) for r in regional_rows
    }


def test_brownout_report_region_filters_and_refuses_an_unknown_region(
    regional: Store,
    sqlite_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("BROWNOUT_DB", sqlite_url)
    monkeypatch.delenv("BROWNOUT_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    since, until = SINCE.strftime("%Y-%m-%dT%H:%M"), UNTIL.strftime("%Y-%m-%dT%H:%M")
    argv = ["report", "--since", since, "--until", until, "--format", "json"]
    assert main([*argv, "--region", "us-east"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["selected_regions"] == ["us-east"]
    assert [(r["name"], r["region"]) for r in data["regions"]] == [(OPENAI, "us-east")]
    assert main([*argv, "--region", "mars"]) == 2
    err = capsys.readouterr().err
    assert "no results from region mars" in err and "eu-west, us-east" in err
    assert "Traceback" not in err
