"""`brownout demo` backfills a scripted history and brings the status page up beside the monitor."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from monitor.config import load_config
from monitor.result import utcnow
from monitor.store import detection, open_store, results, rollups

pytestmark = pytest.mark.slow


def test_the_demo_prints_the_page_url_and_leaves_a_history_with_its_three_incidents(
    tmp_path: Path,
) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "monitor", "demo", "--dir", str(tmp_path), "--duration", "3s"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert re.search(r"status page: http://127\.0\.0\.1:\d+", run.stdout), run.stdout
    assert "simulated results stored" in run.stdout
    config = load_config(str(tmp_path / "probes.yaml"), env={})
    store = open_store(config.storage.url, readonly=True)
    try:
        assert results.count(store) > 4 * 3 * 1440  # three days of four targets, then live ones
        assert len(rollups.targets_since(store, utcnow() - timedelta(days=4))) == 4
        kinds = {
            (i.target.partition("/")[0], i.worst.value) for i in detection.incidents_between(store)
        }
        assert {("anthropic", "degraded"), ("gemini", "degraded"), ("openrouter", "down")} <= kinds
        recent = results.between(store, utcnow() - timedelta(minutes=2))
        tool_probes = [r for r in recent if r.canary == "weather-tool" and r.tool_check]
        assert tool_probes and {r.tool_check for r in tool_probes} == {"ok"}  # the tool canary
    finally:
        store.close()
