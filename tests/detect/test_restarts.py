"""Restarts are the monitor's own absence, not the provider's behaviour: real `brownout run`
subprocesses, stopped (SIGTERM and SIGKILL) and started again during an outage of the
simulator, make no `unknown`, trip no flap guard, keep `since`, and the recovery is seen."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from monitor.detect.types import Status, TargetStatus, Transition
from monitor.errors import StorageError
from monitor.simulator.thread import SimulatorHandle
from monitor.store import detection as stored
from monitor.store import open_store, results

HEALTHY = {"name": "healthy", "defaults": {"ttft": "10ms", "tokens_per_s": 2000}}
OUTAGE = {"name": "outage", "defaults": {"ttft": "10ms", "errors": {"overloaded": 1.0}}}
TARGET = "sim/gpt-4o-mini"


def _config(tmp_path: Path, sim: SimulatorHandle) -> Path:
    path = tmp_path / "probes.yaml"
    path.write_text(
        f"""\
storage:
  url: sqlite:///{tmp_path}/brownout.db
schedule:
  interval: 1s
  timeout: 2s
  jitter: 0
providers:
  sim:
    kind: openai
    base_url: {sim.openai_url}
    api_key: sk-test-key-for-the-simulator
    models: [gpt-4o-mini]
canaries:
  - name: arithmetic
    prompt: "What is 17 * 23? Reply with the number only."
    expect: {{equals: "391"}}
"""
    )
    return path


def _start(config: Path) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BROWNOUT_")}
    return subprocess.Popen(
        [sys.executable, "-m", "monitor", "run", "--config", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def _wait_for(predicate: Callable[[], bool], limit: float = 90.0) -> None:
    """Poll until `predicate` holds (bounded: a broken monitor fails instead of hanging)."""
    deadline = time.monotonic() + limit
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached")
        time.sleep(0.2)


class Database:
    """The monitor's SQLite file, read while the monitor writes it."""

    def __init__(self, tmp_path: Path) -> None:
        self.url = f"sqlite:///{tmp_path}/brownout.db"

    def status(self) -> TargetStatus | None:
        if not Path(self.url.removeprefix("sqlite:///")).exists():
            return None
        try:  # the monitor may still be creating the schema
            store = open_store(self.url, readonly=True, create=False)
            try:
                return stored.stored_statuses(store).get(TARGET)
            finally:
                store.close()
        except StorageError:
            return None

    def count(self) -> int:
        store = open_store(self.url, readonly=True, create=False)
        try:
            return sum(1 for _ in results.between(store))
        finally:
            store.close()

    def transitions(self) -> list[Transition]:
        store = open_store(self.url, readonly=True, create=False)
        try:
            return stored.transitions_between(store, None, None)
        finally:
            store.close()


def _is(db: Database, status: Status) -> Callable[[], bool]:
    def check() -> bool:
        now = db.status()
        return now is not None and now.status is status

    return check


def test_three_restarts_during_an_outage_are_no_flapping_and_the_recovery_is_seen(
    tmp_path: Path, simulator_factory: Callable[..., SimulatorHandle]
) -> None:
    sim = simulator_factory(OUTAGE)
    config = _config(tmp_path, sim)
    db = Database(tmp_path)
    errors: list[str] = []
    monitor = _start(config)
    try:
        _wait_for(_is(db, Status.DOWN))
        down = db.status()
        assert down is not None
        for stop in (signal.SIGTERM, signal.SIGKILL, signal.SIGTERM):
            monitor.send_signal(stop)
            errors.append(monitor.communicate(timeout=60)[1])
            time.sleep(4.0)  # longer than three intervals: the monitor is away
            before = db.count()
            monitor = _start(config)
            _wait_for(lambda before=before: db.count() >= before + 3)  # type: ignore[misc]
            now = db.status()
            assert now is not None
            assert (now.status, now.since) == (Status.DOWN, down.since)
            assert "flapping" not in now.details
        sim.set_scenario(HEALTHY)
        _wait_for(_is(db, Status.OPERATIONAL))
    finally:
        monitor.send_signal(signal.SIGTERM)
        errors.append(monitor.communicate(timeout=60)[1])

    moves = [(t.old, t.new) for t in db.transitions()]
    assert moves == [
        (Status.UNKNOWN, Status.OPERATIONAL),  # one failure is no outage yet
        (Status.OPERATIONAL, Status.DOWN),
        (Status.DOWN, Status.DEGRADED),
        (Status.DEGRADED, Status.OPERATIONAL),
    ]
    store = open_store(db.url, readonly=True, create=False)
    try:
        [incident] = stored.incidents_between(store, None, None)
    finally:
        store.close()
    assert incident.end is not None and incident.worst is Status.DOWN
    assert not [err for err in errors if "Traceback" in err]
