"""At least once: a monitor killed inside a send delivers the message after a restart.

A real `brownout run` probes a simulated provider that is down, detects it, and sends the alert
through Apprise to a loopback webhook that holds the first request open; the test SIGKILLs the
monitor while Apprise waits for the answer (after the send, before the row is marked). A
second `brownout run` finds the row still `sending`, takes it back once the lease has passed,
and delivers it, marked as a possible repeat.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from monitor.simulator import SimulatorHandle
from monitor.store import open_store, outbox


class HoldingReceiver:
    """A webhook whose first request is held (never answered) until `release`; the rest are
    answered 200. Every body is recorded as it arrives."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.arrived = threading.Event()
        self._release = threading.Event()
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
                with receiver._lock:
                    first = not receiver.bodies
                    receiver.bodies.append(body)
                receiver.arrived.set()
                if first:
                    receiver._release.wait(120)
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._release.set()
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def holding_receiver() -> Iterator[HoldingReceiver]:
    receiver = HoldingReceiver()
    yield receiver
    receiver.close()


def _config(tmp_path: Path, sim: SimulatorHandle, port: int) -> Path:
    path = tmp_path / "probes.yaml"
    path.write_text(f"""\
storage:
  url: sqlite:///{tmp_path}/brownout.db
schedule:
  interval: 1s
  timeout: 5s
providers:
  sim:
    kind: openai
    base_url: {sim.openai_url}
    models: [m]
canaries:
  - name: arithmetic
    prompt: "What is 17 * 23? Reply with the number only."
    expect: {{equals: "391"}}
alerts:
  - name: oncall
    urls: ["json://127.0.0.1:{port}/hook"]
delivery:
  lease: 3s
""")
    return path


def _brownout_run(config: Path, tmp_path: Path) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BROWNOUT_")}
    env["BROWNOUT_STATE_DIR"] = str(tmp_path / "state")
    return subprocess.Popen(
        [sys.executable, "-m", "monitor", "run", "--config", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def _wait_for(predicate: Callable[[], bool], limit: float = 120.0) -> None:
    """Poll until `predicate` holds: a bounded loop, so a broken monitor fails, never hangs."""
    deadline = time.monotonic() + limit
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached")
        time.sleep(0.2)


def test_a_monitor_killed_inside_a_send_delivers_the_alert_after_a_restart(
    tmp_path: Path,
    simulator_factory: Callable[..., SimulatorHandle],
    holding_receiver: HoldingReceiver,
) -> None:
    sim = simulator_factory({"defaults": {"error": "api_error"}})  # every probe: a 500
    config = _config(tmp_path, sim, holding_receiver.port)
    first = _brownout_run(config, tmp_path)
    try:
        assert holding_receiver.arrived.wait(120), "no alert was sent"
        os.kill(first.pid, signal.SIGKILL)  # inside the send: the receiver has not answered
    finally:
        first.kill()
        first.communicate(timeout=30)
    store = open_store(f"sqlite:///{tmp_path}/brownout.db")
    try:
        rows = outbox.all_rows(store)
        assert [r.status for r in rows] == ["sending"]  # sent, never marked
        lost = rows[0]
    finally:
        store.close()

    second = _brownout_run(config, tmp_path)
    try:
        _wait_for(lambda: len(holding_receiver.bodies) >= 2)
        store = open_store(f"sqlite:///{tmp_path}/brownout.db")
        try:
            _wait_for(lambda: outbox.all_rows(store)[0].status == "delivered")
            again = outbox.all_rows(store)[0]
        finally:
            store.close()
    finally:
        second.send_signal(signal.SIGTERM)
        _out, err = second.communicate(timeout=60)
    assert again.id == lost.id and again.resent and again.attempts == 2
    first_copy, second_copy = holding_receiver.bodies[:2]
    assert first_copy["title"] == second_copy["title"]
    assert "sim/m" in second_copy["title"]
    assert "repeat" in second_copy["message"].lower(), second_copy["message"]
    assert "Traceback" not in err
