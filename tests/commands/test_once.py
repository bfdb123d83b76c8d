"""`brownout once` takes part in the leader lease: it runs detection only when it can hold the
lease, and beside a running leader only stores its results (real `brownout run` and `brownout
once` processes, on a SQLite file and on PostgreSQL)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from monitor.simulator import SimulatorHandle
from monitor.store import detection, results
from tests.commands.conftest import Brownout, leader, read, wait_for, write_config

TARGET = "openai/gpt-4o-mini"


def _once(config: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BROWNOUT_")}
    return subprocess.run(
        [sys.executable, "-m", "monitor", "once", "--config", str(config)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def _region_count(url: str, region: str) -> int:
    return sum(1 for r in read(url, lambda s: list(results.between(s))) if r.region == region)


def test_once_beside_a_running_leader_stores_its_results_and_leaves_detection_to_it(
    tmp_path: Path,
    db_url: str,
    simulator: SimulatorHandle,
    monitors: Callable[..., Brownout],
) -> None:
    # A 10 s interval: a 10 s lease, which a busy machine cannot let run out between renewals.
    config = write_config(tmp_path / "probes.yaml", db_url, simulator, interval="10s")
    running = monitors(tmp_path / "run.log", "--config", str(config))
    wait_for(lambda: "this monitor leads" in running.log(), what="the monitor leads")
    held = leader(db_url)
    assert held is not None and held.live
    once_config = write_config(
        tmp_path / "once.yaml", db_url, simulator, interval="10s", extra="region: from-once\n"
    )

    done = _once(once_config)

    assert done.returncode == 0, done.stderr
    assert "this monitor follows" in done.stderr
    assert f"detection left to the monitor that leads, {held.holder}" in done.stderr
    assert _region_count(db_url, "from-once") == 1
    after = leader(db_url)
    assert after is not None
    assert (after.holder, after.token, after.live) == (held.holder, held.token, True)
    assert running.stop() == 0


def test_once_alone_takes_the_lease_runs_detection_and_hands_the_lease_back(
    tmp_path: Path, db_url: str, simulator: SimulatorHandle
) -> None:
    config = write_config(tmp_path / "probes.yaml", db_url, simulator)

    done = _once(config)

    assert done.returncode == 0, done.stderr
    assert "this monitor leads (token 1" in done.stderr
    assert "detection left to" not in done.stderr
    assert TARGET in read(db_url, detection.stored_statuses)
    released = leader(db_url)
    assert released is not None
    assert (released.token, released.holder, released.live) == (1, "", False)
