"""`brownout replay` and `brownout status`, through the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from monitor.cli import main
from monitor.config import Config
from monitor.pipeline.detection import DetectionService
from monitor.result import Outcome, utcnow
from monitor.store import open_store, results
from tests.factories import healthy_stream, minute_probe


@pytest.fixture
def trace(tmp_path: Path) -> Path:
    """A healthy stretch, then an outage."""
    path = tmp_path / "results.jsonl"
    batch = healthy_stream(0, 200) + [
        minute_probe(200 + k, outcome=Outcome.TIMEOUT) for k in range(4)
    ]
    path.write_text("".join(r.to_json() + "\n" for r in batch))
    return path


def test_replay_prints_one_json_transition_a_line(
    trace: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(trace.parent)
    assert main(["replay", "--input", str(trace), "--json"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(x["old"], x["new"], x["reasons"]) for x in lines] == [
        ("unknown", "operational", []),
        ("operational", "down", ["errors"]),
    ]
    assert set(lines[1]) == {"ts", "target", "old", "new", "reasons"}
    assert lines[1]["ts"].endswith("Z")


def test_replay_prints_a_table_without_json(
    trace: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(trace.parent)
    assert main(["replay", "--input", str(trace)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split()[:4] == ["time", "target", "old", "new"]
    assert out[-2].split()[-3:] == ["operational", "down", "errors"]
    assert out[-1].startswith("replayed 204 results of 1 target(s)")


@pytest.mark.parametrize(
    ("line", "says"),
    [
        ("not json", "Expecting value"),
        ('["a list"]', "not a JSON object"),
        ('{"ts": "2026-11-02T00:00:00Z", "target": "a/b"}', "needs at least"),
        ('{"ts": "yesterday", "target": "a/b", "outcome": "ok"}', "isoformat"),
        ('{"ts": "2026-11-02T00:00:00Z", "target": "a/b", "outcome": "fine"}', "'fine'"),
    ],
)
def test_replay_names_the_bad_line_and_exits_2(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    line: str,
    says: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    good = [r.to_json() for r in healthy_stream(0, 2)]
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join([*good, line]) + "\n")
    assert main(["replay", "--input", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert says in err and f"{path}:3:" in err
    assert len(err.splitlines()) == 1


def test_status_reads_the_database_without_a_config_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path}/brownout.db"
    store = open_store(url)
    now = utcnow()
    batch = healthy_stream(0, 100) + [
        minute_probe(100 + k, outcome=Outcome.SERVER_ERROR) for k in range(3)
    ]
    shift = now - batch[-1].ts
    for r in batch:
        r.ts += shift  # as if it happened just now
    results.record(store, batch)
    service = DetectionService(store, Config(), clock=lambda: now)
    service.observe(batch)
    store.close()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("BROWNOUT_DB", url)
    monkeypatch.delenv("BROWNOUT_CONFIG", raising=False)

    assert main(["status", "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    [target] = answer["targets"]
    assert (target["target"], target["status"], target["reasons"]) == (
        "openai/gpt-4o-mini",
        "down",
        ["errors"],
    )
    assert answer["fleet"]["status"] == "down"
    [incident] = answer["incidents"]
    assert incident["worst"] == "down" and incident["end"] is None

    assert main(["status"]) == 0
    text = capsys.readouterr().out
    assert "openai/gpt-4o-mini" in text and "down" in text and "open incidents:" in text


def _history_config(tmp_path: Path, url: str) -> Path:
    """A config probing every 10 s (as the demo's does) over a history probed once a minute."""
    path = tmp_path / "probes.yaml"
    path.write_text(
        f"""storage: {{url: "{url}"}}
schedule: {{interval: 10s, timeout: 5s}}
providers:
  openai:
    kind: openai
    base_url: http://127.0.0.1:9/v1
    api_key: sk-fake-test-key-0000
    models: [gpt-4o-mini]
"""
    )
    return path


def test_replay_of_a_history_exported_from_the_database_judges_it_on_its_own_spacing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # A day of one probe a minute with one outage, stored and detected as `brownout run` does.
    url = f"sqlite:///{tmp_path}/brownout.db"
    config = _history_config(tmp_path, url)
    batch = healthy_stream(0, 1400)
    batch += [minute_probe(1400 + k, outcome=Outcome.TIMEOUT) for k in range(6)]
    batch += healthy_stream(1406, 34)
    now = utcnow()
    shift = now - batch[-1].ts
    for r in batch:
        r.ts += shift
    store = open_store(url)
    results.record(store, batch)
    DetectionService(store, Config(), clock=lambda: now).observe(batch)
    store.close()
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("BROWNOUT_DB", raising=False)
    out = tmp_path / "results.jsonl"
    assert (
        main(
            [
                "export",
                "--config",
                str(config),
                "--since",
                "2d",
                "--format",
                "jsonl",
                "-o",
                str(out),
            ]
        )
        == 0
    )
    capsys.readouterr()

    assert main(["replay", "--config", str(config), "--input", str(out), "--json"]) == 0
    captured = capsys.readouterr()
    lines = [json.loads(line) for line in captured.out.splitlines()]
    assert [(x["old"], x["new"]) for x in lines] == [
        ("unknown", "operational"),
        ("operational", "down"),
        ("down", "degraded"),
        ("degraded", "operational"),
    ]
    summary = captured.err.strip()
    assert "intervals from the records' spacing (1 min)" in summary
    assert "1 incident(s) found, 1 stored in the database for these targets and span" in summary

    # `--interval` says how often the records were meant to be: a gap of 3 intervals is stale.
    assert main(["replay", "--input", str(out), "--interval", "10s", "--json"]) == 0
    judged = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert sum(1 for x in judged if x["new"] == "unknown") > 1000


def test_replay_of_an_empty_input_is_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n\n")
    assert main(["replay", "--input", str(empty)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert str(empty) in err and "no result records" in err


@pytest.mark.parametrize("interval", ["0s", "soon", "-5s"])
def test_replay_refuses_an_interval_that_is_not_a_duration(
    trace: Path, capsys: pytest.CaptureFixture[str], interval: str
) -> None:
    assert main(["replay", "--input", str(trace), "--interval", interval]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "--interval" in err
