"""Real `brownout run` processes on one database, a loopback webhook receiver for their alerts,
and helpers to read what they stored."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from monitor.simulator import SimulatorHandle
from monitor.store import lease, open_store
from monitor.store.lease import LeaseInfo

FAST = {"name": "fast", "defaults": {"ttft": "10ms", "tokens_per_s": 1000}}
FAILING = {
    "name": "failing",
    "defaults": {"ttft": "10ms", "tokens_per_s": 1000},
    "models": {"*": {"error": "server_error"}},
}


@dataclass
class Receiver:
    """A webhook receiver (Apprise's `json://`): every message posted, in order."""

    port: int = 0
    received: list[dict[str, Any]] = field(default_factory=list)

    def url(self) -> str:
        return f"json://127.0.0.1:{self.port}/hook"

    @property
    def titles(self) -> list[str]:
        return [str(m.get("title")) for m in self.received]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            with lock:
                state.received.append(json.loads(body))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    yield state
    server.shutdown()
    server.server_close()
    thread.join()


def write_config(
    path: Path,
    url: str,
    sim: SimulatorHandle,
    *,
    receiver: Receiver | None = None,
    interval: str = "1s",
    extra: str = "",
    provider_extra: str = "",
) -> Path:
    """A config probing the simulator's OpenAI model with one canary; `provider_extra` is YAML
    lines added to the provider (indented by four), `extra` top-level YAML appended."""
    alerts = ""
    if receiver is not None:
        alerts = f"""\
alerts:
  - name: oncall
    urls: ["{receiver.url()}"]
    group_wait: 0s
"""
    path.write_text(
        f"""\
storage:
  url: "{url}"
schedule:
  interval: {interval}
  timeout: 10s
  jitter: 0.1
providers:
  openai:
    kind: openai
    base_url: {sim.openai_url}
    api_key: sk-test-fake-key-for-the-simulator
    models: [gpt-4o-mini]
{provider_extra}canaries:
  - name: arithmetic
    prompt: "What is 17 * 23? Reply with the number only."
    expect: {{equals: "391"}}
{alerts}{extra}"""
    )
    return path


class Brownout:
    """One `brownout run` process; its log goes to a file (read with `.log()`)."""

    def __init__(self, log: Path, *args: str) -> None:
        self.log_path = log
        env = {k: v for k, v in os.environ.items() if not k.startswith("BROWNOUT_")}
        self._out = log.open("w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "monitor", *args],
            stdout=self._out,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
        )

    @property
    def pid(self) -> int:
        return self.proc.pid

    def log(self) -> str:
        return self.log_path.read_text()

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(30)

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(60)
        self._out.close()
        return code


@pytest.fixture
def monitors() -> Iterator[Callable[..., Brownout]]:
    """Start `brownout run` processes; every one still running is killed when the test ends."""
    started: list[Brownout] = []

    def start(log: Path, *args: str) -> Brownout:
        process = Brownout(log, "run", *args)
        started.append(process)
        return process

    yield start
    for process in started:
        if process.proc.poll() is None:
            process.kill()
        process._out.close()


def wait_for(predicate: Callable[[], bool], limit: float = 90.0, what: str = "condition") -> None:
    """Poll until `predicate` holds; bounded, so a broken monitor fails instead of hanging."""
    deadline = time.monotonic() + limit
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not reached")
        time.sleep(0.1)


def leader(url: str) -> LeaseInfo | None:
    store = open_store(url)
    try:
        return lease.current(store)
    finally:
        store.close()


def read(url: str, work: Callable[[Any], Any]) -> Any:
    store = open_store(url)
    try:
        return work(store)
    finally:
        store.close()
