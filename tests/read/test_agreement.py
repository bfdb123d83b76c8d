"""One store, five surfaces, one answer: the page, `/api/status`, `brownout status --json`,
`/api/route` and a report agree on every target's status, reasons, since and figures."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from dashboard import data
from monitor.cli import main
from monitor.config import Config
from monitor.detect.types import IncidentRecord, Status, TargetStatus, Transition
from monitor.reports import build_report
from monitor.result import format_ts, utcnow
from monitor.store import Store, detection
from monitor.store import results as stored
from tests.factories import TARGETS, probe

OPENAI, ANTHROPIC, OPENROUTER = TARGETS


def test_every_surface_gives_the_same_status_reasons_since_and_figures(
    api: str,
    store: Store,
    config: Config,
    sqlite_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    now = utcnow()
    days_ago, down_at, slow_at = (
        now - timedelta(days=3),
        now - timedelta(minutes=20),
        now - (timedelta(minutes=40)),
    )
    batch = []
    for i in range(16):  # the last eight minutes, one probe every 30 s
        ts = now - timedelta(seconds=30 * (16 - i))
        batch.append(probe(ts, OPENAI, ttft_ms=250.0 + i, latency_ms=600.0 + 3 * i))
        batch.append(probe(ts, ANTHROPIC, outcome="overloaded" if i % 4 else "ok", ttft_ms=900.0))
        batch.append(probe(ts, OPENROUTER, ttft_ms=1800.0 + 10 * i, latency_ms=4000.0))
    stored.record(store, batch)
    detection.save_detection(
        store,
        transitions=[
            Transition(days_ago, OPENAI, Status.UNKNOWN, Status.OPERATIONAL),
            Transition(days_ago, ANTHROPIC, Status.UNKNOWN, Status.OPERATIONAL),
            Transition(days_ago, OPENROUTER, Status.UNKNOWN, Status.OPERATIONAL),
            Transition(slow_at, OPENROUTER, Status.OPERATIONAL, Status.DEGRADED, ["latency"]),
            Transition(down_at, ANTHROPIC, Status.OPERATIONAL, Status.DOWN, ["errors"]),
        ],
        incidents=[
            IncidentRecord(ANTHROPIC, down_at, Status.DOWN, None, ["errors"]),
            IncidentRecord(OPENROUTER, slow_at, Status.DEGRADED, None, ["latency"]),
        ],
        statuses=[
            TargetStatus(OPENAI, Status.OPERATIONAL, days_ago),
            TargetStatus(ANTHROPIC, Status.DOWN, down_at, ["errors"]),
            TargetStatus(OPENROUTER, Status.DEGRADED, slow_at, ["latency"]),
        ],
        now=now,
    )
    expected = {
        OPENAI: ("operational", [], format_ts(days_ago)),
        ANTHROPIC: ("down", ["errors"], format_ts(down_at)),
        OPENROUTER: ("degraded", ["latency"], format_ts(slow_at)),
    }

    # the page
    page = data.load(store, config, now)
    assert {
        r.target: (r.status.status.value, r.status.reasons, format_ts(r.status.since))
        for r in page.targets
    } == expected
    # /api/status
    answer = httpx.get(f"{api}/api/status").json()
    api_targets = {t["target"]: t for t in answer["targets"]}
    assert {n: (t["status"], t["reasons"], t["since"]) for n, t in api_targets.items()} == expected
    # brownout status --json (no config file: the database alone)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("BROWNOUT_DB", sqlite_url)
    monkeypatch.delenv("BROWNOUT_CONFIG", raising=False)
    assert main(["status", "--json"]) == 0
    cli = {t["target"]: t for t in json.loads(capsys.readouterr().out)["targets"]}
    assert {n: (t["status"], t["reasons"], t["since"]) for n, t in cli.items()} == expected
    # /api/route: the down target apart, the others with their status and reasons
    route = httpx.get(f"{api}/api/route", params={"family": "all"}).json()
    ranked = {e["target"]: e for e in route["targets"] + route["excluded"]}
    assert {n: (e["status"], e["reasons"]) for n, e in ranked.items()} == {
        n: (status, reasons) for n, (status, reasons, _) in expected.items()
    }
    assert [e["target"] for e in route["excluded"]] == [ANTHROPIC]
    # a report: the open incidents are the statuses in trouble, from the moment they began
    report = build_report(store, config, now - timedelta(days=7), now, now=now)
    open_rows = {i.target: i for i in report.incidents if i.end is None}
    assert {n: (i.worst, list(i.reasons), format_ts(i.start)) for n, i in open_rows.items()} == {
        n: e for n, e in expected.items() if e[0] != "operational"
    }

    # Figures: the same probes, the same medians (one sketch, whether from raw rows or rollups)
    rows = {r.name: r for r in report.targets}
    for name in TARGETS:
        figures = api_targets[name]["figures"]
        assert figures["probes"] == ranked[name]["figures"]["probes"] == rows[name].probes == 16
        assert figures["ttft_p50_ms"] == pytest.approx(ranked[name]["figures"]["ttft_p50_ms"], 1e-3)
        assert figures["ttft_p50_ms"] == pytest.approx(rows[name].ttft_p50_ms, 1e-3)
        uptime = next(r for r in page.targets if r.target == name).uptime["24h"]
        assert figures["probe_availability"] == pytest.approx(uptime, abs=1e-4)
