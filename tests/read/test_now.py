"""The status now: one answer, the right one, whichever surface asks."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from dashboard.banner import banner
from monitor.api.views import status_view
from monitor.cli import main
from monitor.config import Config
from monitor.detect.types import Reason, Status, TargetStatus
from monitor.read.now import provider_now, status_now
from monitor.result import Outcome, ProbeResult, utcnow
from monitor.store import Store, open_store, results
from monitor.store import detection as detection_store

SC = [f"sc/model-{i}" for i in range(5)]


def config(**detection: Any) -> Config:
    models = {"sc": [t.partition("/")[2] for t in SC], "other": ["m"], "third": ["m"]}
    return Config.model_validate(
        {
            "providers": {
                p: {"kind": "openai", "base_url": "http://127.0.0.1:9/v1", "models": ms}
                for p, ms in models.items()
            },
            "detection": detection,
        }
    )


def probe(target: str, ts: datetime, outcome: Outcome = Outcome.OK) -> ProbeResult:
    provider, _, model = target.partition("/")
    return ProbeResult(
        ts=ts, target=target, provider=provider, model=model, canary="c", outcome=outcome,
        ttft_ms=300.0, latency_ms=900.0, quality_ok=True,
    )  # fmt: skip


def seed(store: Store, targets: list[str], until: datetime, minutes: int = 10) -> None:
    results.record(
        store,
        [probe(t, until - timedelta(minutes=m)) for t in targets for m in range(minutes, 0, -1)],
    )


def detector_says(store: Store, now: datetime, **words: tuple[Status, datetime]) -> None:
    detection_store.save_detection(
        store,
        statuses=[
            TargetStatus(t, s, since, [] if s is Status.OPERATIONAL else [Reason.ERRORS.value])
            for t, (s, since) in words.items()
        ],
        now=now,
    )


def test_a_provider_is_down_only_when_all_its_targets_are() -> None:
    now = utcnow()
    words = [Status.DOWN, Status.DEGRADED, Status.DEGRADED, Status.OPERATIONAL, Status.OPERATIONAL]
    members = [TargetStatus(t, s, now) for t, s in zip(SC, words, strict=True)]
    assert provider_now("sc", members).status == "partial_outage"
    assert provider_now("sc", [TargetStatus(t, Status.DOWN, now) for t in SC]).status == (
        "major_outage"
    )
    assert provider_now("sc", members[1:]).status == "degraded_performance"
    assert provider_now("sc", members[3:]).status == "operational"
    assert provider_now("sc", [TargetStatus(SC[0], Status.UNKNOWN, now)]).status == "unknown"


def test_the_banner_does_not_call_a_provider_down_when_one_of_five_models_is() -> None:
    now = utcnow()
    words = [Status.DOWN, Status.DEGRADED, Status.DEGRADED, Status.OPERATIONAL, Status.OPERATIONAL]
    statuses = {t: TargetStatus(t, s, now) for t, s in zip(SC, words, strict=True)}
    text = banner(statuses, now).text
    assert "Sc down" not in text
    assert text.startswith("Sc partial outage since") and "(1 of 5 models down)" in text


def test_the_api_uses_the_configured_fleet_threshold(store: Store) -> None:
    now = utcnow()
    seed(store, [SC[0], "other/m", "third/m"], now)
    detector_says(
        store,
        now,
        **{SC[0]: (Status.DEGRADED, now), "other/m": (Status.DEGRADED, now)},  # two providers
        **{"third/m": (Status.OPERATIONAL, now)},
    )
    names = [SC[0], "other/m", "third/m"]
    lenient = config(fleet={"providers": 3})
    assert not status_now(store, lenient, now, names).fleet.intelligence_brownout
    answer = status_view(store, lenient, now)
    assert answer["fleet"]["intelligence_brownout"] is False
    assert status_view(store, config(), now)["fleet"]["intelligence_brownout"] is True


def test_a_target_gone_quiet_while_the_monitor_runs_is_unknown_everywhere(store: Store) -> None:
    now = utcnow()
    seed(store, ["other/m"], now)
    seed(store, ["third/m"], now - timedelta(minutes=30))  # nothing for 30 minutes
    days_ago = now - timedelta(days=3)
    detector_says(
        store, now, **{"other/m": (Status.OPERATIONAL, days_ago)},
        **{"third/m": (Status.OPERATIONAL, days_ago)},
    )  # fmt: skip
    got = status_now(store, config(), now, ["other/m", "third/m"])
    assert got.monitor.reporting
    quiet = got.targets["third/m"]
    assert (quiet.status, quiet.reasons, quiet.stale) == (Status.UNKNOWN, ["stale"], True)
    # from the moment it went stale, by the detector's rule: three intervals of 60 s after its
    # last result, plus what its probes may take (a 30 s timeout for each canary, and one more)
    [target] = [t for t in config().targets() if t.name == "third/m"]
    canaries = len(config().canaries_for(target))
    after = timedelta(seconds=180 + (canaries + 1) * 30)
    assert quiet.since == now - timedelta(minutes=31) + after
    api = {t["target"]: t for t in status_view(store, config(), now)["targets"]}
    assert api["third/m"]["status"] == "unknown"
    assert api["other/m"]["status"] == "operational"


def test_the_monitors_own_downtime_is_a_gap_not_unknown_of_the_providers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path}/brownout.db"
    store = open_store(url)
    now = utcnow()
    stopped = now - timedelta(hours=1)  # the monitor stopped an hour ago
    seed(store, ["other/m", "third/m"], stopped)
    days_ago = now - timedelta(days=3)
    detector_says(
        store, stopped, **{"other/m": (Status.OPERATIONAL, days_ago)},
        **{"third/m": (Status.DEGRADED, days_ago)},
    )  # fmt: skip
    got = status_now(store, Config(), now)
    assert not got.monitor.reporting
    assert got.monitor.last_result == stopped - timedelta(minutes=1)
    assert {n: (t.status, t.since, t.stale) for n, t in got.targets.items()} == {
        "other/m": (Status.OPERATIONAL, days_ago, True),
        "third/m": (Status.DEGRADED, days_ago, True),
    }
    assert banner(got.statuses(), now, got.monitor).text.startswith("The monitor is not reporting")
    store.close()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("BROWNOUT_DB", url)
    monkeypatch.delenv("BROWNOUT_CONFIG", raising=False)
    assert main(["status", "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["monitor"]["reporting"] is False
    assert [(t["target"], t["status"], t["stale"]) for t in answer["targets"]] == [
        ("other/m", "operational", True),
        ("third/m", "degraded", True),
    ]
    assert main(["status"]) == 0
    assert "the monitor is not reporting" in capsys.readouterr().out


def test_after_a_restart_since_is_the_detectors_not_the_restart(store: Store) -> None:
    now = utcnow()
    days_ago = now - timedelta(days=3)
    seed(store, ["other/m"], now - timedelta(hours=2), minutes=30)  # before the stop
    seed(store, ["other/m"], now, minutes=3)  # since the restart
    detector_says(store, now, **{"other/m": (Status.OPERATIONAL, days_ago)})
    got = status_now(store, config(), now, ["other/m"]).targets["other/m"]
    assert (got.status, got.since, got.stale) == (Status.OPERATIONAL, days_ago, False)
