"""The page's logic through Streamlit's AppTest, against the seeded SQLite file."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from monitor.result import Outcome, ProbeResult
from monitor.store import open_store, results
from tests.dashboard.conftest import DOWN, KEY, Seeded, write_config

APP = str(Path(__file__).resolve().parents[2] / "dashboard" / "app.py")


@pytest.fixture
def page(seeded: Seeded, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Run the page with a config; returns a function that runs it and gives the AppTest."""

    def run(config: Path | None = None, query: dict[str, str] | None = None) -> AppTest:
        monkeypatch.setenv("BROWNOUT_CONFIG", str(config or seeded.config_path))
        monkeypatch.delenv("BROWNOUT_DB", raising=False)
        at = AppTest.from_file(APP, default_timeout=60)
        for key, value in (query or {}).items():
            at.query_params[key] = value
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        return at

    yield run
    import streamlit as st

    st.cache_resource.clear()


def everything(at: AppTest) -> str:
    """All the text the page shows: markdown, captions, headers, every table cell and every chart
    (titles, hover texts)."""
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption]
    parts += [h.value for h in at.subheader]
    parts += [f.value.to_csv() for f in at.dataframe]
    parts += [chart.proto.spec for chart in at.get("plotly_chart")]
    return "\n".join(parts)


def banner_text(at: AppTest) -> str:
    return next(m.value for m in at.markdown if "brownout-banner" in m.value)


def test_the_banner_says_which_provider_is_down_and_since_when(page: Any, seeded: Seeded) -> None:
    at = page()
    assert "OpenRouter down since" in banner_text(at)
    assert "#dc2626" in banner_text(at)  # red, as status pages colour an outage


def test_every_target_is_listed_with_its_status_and_uptime(page: Any) -> None:
    at = page()
    table = at.dataframe[0].value
    assert list(table["target"])[:2] == ["openai/gpt-4o-mini", "anthropic/claude-haiku-4-5"]
    row = table[table["target"] == DOWN].iloc[0]
    assert row["status"] == "down" and row["reasons"] == "errors"
    # three days of history: the 90-day figure says how much of the window it covers
    assert all(re.fullmatch(r"\d+\.\d\d % \(3\.\d d of 90d\)", v) for v in table["uptime 90d"])


def test_open_incidents_come_first(page: Any) -> None:
    at = page()
    incidents = next(f.value for f in at.dataframe if "worst" in f.value.columns)
    assert incidents.iloc[0, 0] == "open"
    assert set(incidents.iloc[1:, 0]) == {"resolved"}
    assert {"quality", "errors"} <= {r for rs in incidents["reasons"] for r in rs.split(", ")}


def test_the_team_view_shows_answers_errors_costs_and_downloads(page: Any) -> None:
    at = page()
    shown = everything(at)
    assert "Recent probes" in shown
    assert "Cost (USD)" in shown and "cost $" in shown
    assert "529 overloaded_error" in shown or "connection refused" in shown
    assert len(at.get("download_button")) == 6


@pytest.mark.parametrize("how", ["config", "query"])
def test_public_mode_hides_answers_errors_costs_and_downloads(
    page: Any, seeded: Seeded, how: str
) -> None:
    at = page(seeded.public_config()) if how == "config" else page(query={"public": "1"})
    shown = everything(at)
    assert "OpenRouter down since" in banner_text(at)
    for hidden in ("Recent probes", "overloaded_error", "connection refused", "Cost", "cost $"):
        assert hidden not in shown
    assert not at.get("download_button")
    for frame in at.dataframe:
        assert not {"answer", "error", "why", "cost $"} & set(frame.value.columns)


def test_no_key_is_ever_shown_even_one_a_provider_echoed(
    page: Any, seeded: Seeded, tmp_path: Path
) -> None:
    copy = tmp_path / "brownout.db"  # a copy: the seeded database is shared, read-only
    source = sqlite3.connect(seeded.config.storage.url.removeprefix("sqlite:///"))
    target = sqlite3.connect(copy)
    source.backup(target)
    source.close()
    target.close()
    config = write_config(tmp_path, copy)
    writer = open_store(f"sqlite:///{copy}")
    echoed = ProbeResult(
        ts=seeded.now,
        target="openai/gpt-4o-mini",
        provider="openai",
        model="gpt-4o-mini",
        canary="arithmetic",
        outcome=Outcome.AUTH_ERROR,
        http_status=401,
        error=f"401 Incorrect API key provided: {KEY}",
    )
    results.record(writer, [echoed])
    writer.close()
    at = page(config)
    shown = everything(at)
    assert "Incorrect API key provided" in shown
    assert KEY not in shown and KEY[:12] not in shown


def test_filtering_by_provider_narrows_the_targets_and_charts(page: Any) -> None:
    at = page()
    at.sidebar.multiselect[0].set_value(["anthropic"]).run()
    assert not at.exception
    assert list(at.dataframe[0].value["target"]) == ["anthropic/claude-haiku-4-5"]
    assert "one line per target" in everything(at)


def test_the_chart_resolution_follows_the_range_and_the_data_it_has(page: Any) -> None:
    at = page()
    assert "10m points from 1m rollups" in everything(at)
    at.sidebar.segmented_control[0].set_value("90d").run()
    assert not at.exception
    # 90 days asked for, three days of history: hourly points over those three days
    assert "1h points from 1h rollups" in everything(at)


def test_a_missing_database_is_one_clear_sentence(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BROWNOUT_DB", f"sqlite:///{tmp_path}/absent.db")
    monkeypatch.delenv("BROWNOUT_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    assert "cannot start" in at.error[0].value
