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
from tests.detect.conftest import healthy_stream, probe


@pytest.fixture
def trace(tmp_path: Path) -> Path:
    """A healthy stretch, then an outage."""
    path = tmp_path / "results.jsonl"
    batch = healthy_stream(0, 200) + [probe(200 + k, outcome=Outcome.TIMEOUT) for k in range(4)]
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
    assert out[-1].split()[-3:] == ["operational", "down", "errors"]


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
        probe(100 + k, outcome=Outcome.SERVER_ERROR) for k in range(3)
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
