"""`brownout report` and `brownout export` from the command line, with BROWNOUT_DB and no config."""

from __future__ import annotations

import json
import os
import pty
import sys
import threading
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest

from monitor.cli import main
from monitor.result import utcnow
from monitor.store import Store
from tests.factories import probe, seed


@pytest.fixture
def env(store: Store, sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A database of the last two days' probes, found through BROWNOUT_DB; no config file."""
    now = utcnow()
    seed(store, [probe(now - timedelta(minutes=10 * i)) for i in range(1, 289)])
    monkeypatch.setenv("BROWNOUT_DB", sqlite_url)
    monkeypatch.delenv("BROWNOUT_CONFIG", raising=False)
    workdir = tmp_path / "work"
    workdir.mkdir()
    monkeypatch.chdir(workdir)
    return workdir


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["report", "--since", "banana"], "--since 'banana' is neither a duration"),
        (["export", "--since", "banana"], "--since 'banana' is neither a duration"),
        (["report", "--since", "1d", "--until", "2d"], "must come after --since"),
        (["report", "--format", "pdf"], "invalid choice: 'pdf'"),
        (["export", "--table", "people"], "invalid choice: 'people'"),
        (["report", "--target", "nobody/*"], "no target matches nobody/*"),
        (["report", "-o", "/nonexistent/dir/r.md"], "cannot write /nonexistent/dir/r.md"),
        (["export", "-o", "/nonexistent/dir/r.jsonl"], "cannot write /nonexistent/dir/r.jsonl"),
    ],
)
def test_bad_arguments_exit_2_with_one_sentence(
    env: Path, capsys: pytest.CaptureFixture[str], argv: list[str], says: str
) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert says in err and err.count("\n") == 1 and "Traceback" not in err


def test_a_missing_database_file_is_bad_input_not_a_new_empty_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("BROWNOUT_DB", f"sqlite:///{tmp_path}/typo.db")
    monkeypatch.chdir(tmp_path)
    assert main(["report"]) == 2
    assert "there is no database" in capsys.readouterr().err
    assert not (tmp_path / "typo.db").exists()


def test_a_markdown_report_goes_to_stdout(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "--since", "3d"]) == 0
    out = capsys.readouterr().out
    assert "## Fleet summary" in out and "288 probes" in out and "openai/gpt-4o-mini" in out


def test_a_json_report_written_to_a_file_holds_the_figures(env: Path) -> None:
    assert main(["report", "--since", "3d", "--format", "json", "-o", "r.json"]) == 0
    report = json.loads((env / "r.json").read_text())
    assert report["fleet"]["probes"] == 288 and report["fleet"]["success_rate"] == 1.0


def test_the_html_report_is_one_self_contained_printable_file(env: Path) -> None:
    assert main(["report", "--since", "2d", "--format", "html", "-o", "r.html"]) == 0
    html = (env / "r.html").read_text()
    links = Links()
    links.feed(html)
    assert links.found == []  # nothing to fetch: no script src, stylesheet or image URL
    assert "Plotly.newPlot" in html  # the charts …
    assert "plotly.js v" in html  # … and plotly.js itself, inline
    assert "@media print" in html


class Links(HTMLParser):
    """Every URL a page's tags would fetch (script bodies are not tags, so plotly's own text
    mentioning a CDN does not count)."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("src", "href") and value and not value.startswith("#"):
                self.found.append(f"{tag} {name}={value}")


def test_an_export_to_a_file_is_the_results_as_json_lines(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["export", "--since", "1d", "--format", "jsonl", "-o", "out.jsonl"]) == 0
    lines = (env / "out.jsonl").read_text().splitlines()
    assert len(lines) == 143 or len(lines) == 144  # 24 h of 10-minute probes, edges included
    assert json.loads(lines[0])["target"] == "openai/gpt-4o-mini"
    assert capsys.readouterr().err == ""  # no progress bar when stderr is not a terminal


@pytest.mark.parametrize(
    ("table", "header"),
    [
        ("transitions", "ts,target,old,new,reasons,details"),
        ("incidents", "id,target,start,end,duration_s,worst,reasons,peak"),
    ],
)
def test_transitions_and_incidents_export_as_csv(env: Path, table: str, header: str) -> None:
    assert main(["export", "--table", table, "--format", "csv", "-o", f"{table}.csv"]) == 0
    assert (env / f"{table}.csv").read_text().splitlines() == [header]


def test_brownout_replay_reads_an_export_back(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["export", "--since", "3d", "-o", "history.jsonl"]) == 0
    assert main(["replay", "--input", "history.jsonl", "--json"]) == 0
    first = json.loads(capsys.readouterr().out.splitlines()[0])
    assert first["target"] == "openai/gpt-4o-mini" and first["new"] == "operational"


def test_a_progress_bar_is_drawn_on_a_terminal(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    master, replica = pty.openpty()
    drawn: list[bytes] = []

    def read() -> None:  # drain the terminal as it is written, so a full buffer never blocks
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the terminal's other side is closed
                return
            if not chunk:
                return
            drawn.append(chunk)

    reader = threading.Thread(target=read)
    reader.start()
    with open(replica, "w", encoding="utf-8") as terminal:
        monkeypatch.setattr(sys, "stderr", terminal)
        assert main(["export", "--since", "3d", "-o", "out.jsonl"]) == 0
    reader.join()
    os.close(master)
    assert b"exporting" in b"".join(drawn) and b"288 rows" in b"".join(drawn)
