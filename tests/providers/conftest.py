"""A real LLM server for the tests: llama.cpp's `llama-server` serving SmolLM2-135M-Instruct.

`tools/ensure-llama-server` builds the server and fetches the model into a cache outside the
repository (`make test` runs it first); here it is only asked for the cached paths. When the
build cannot be had, every test of this folder skips and says why.

    def test_x(llama: LlamaServer) -> None:
        llama.url            # http://127.0.0.1:PORT/v1, an OpenAI-compatible base_url
        llama.kill()         # SIGKILL, as a crash
        llama.start()        # again, on the same port
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

REPO = Path(__file__).resolve().parents[2]
ENSURE = REPO / "tools" / "ensure-llama-server"
MODEL_ALIAS = "smollm2"
START_TIMEOUT_S = 120.0


def _cached() -> tuple[Path, Path] | str:
    """(server binary, model) from the cache, or why they are not there."""
    try:
        done = subprocess.run(
            [str(ENSURE), "--cached"], capture_output=True, text=True, timeout=30, check=False
        )
    except OSError as exc:
        return f"tools/ensure-llama-server could not run: {exc}"
    if done.returncode != 0:
        return done.stderr.strip() or "tools/ensure-llama-server found no llama-server"
    lines = done.stdout.split()
    return Path(lines[0]), Path(lines[1])


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class LlamaServer:
    """One llama-server process on a loopback port, started and stopped by the tests.

    One thread (`-t 1`): on a machine whose cores are shared, two threads that wait on each
    other at every layer make generation ten times slower and erratic."""

    def __init__(self, binary: Path, model: Path, log: Path) -> None:
        self.binary, self.model, self.log = binary, model, log
        self.port = _free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> None:
        command = [
            str(self.binary),
            *("-m", str(self.model), "--host", "127.0.0.1", "--port", str(self.port)),
            *("-t", "1", "-tb", "1", "-c", "2048", "-np", "1", "--alias", MODEL_ALIAS),
            "--no-webui",
        ]
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"llama-server exited at start; see {self.log}")
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/health", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"llama-server did not become healthy in {START_TIMEOUT_S:g}s")

    def kill(self) -> None:
        """SIGKILL, and wait until the process is gone."""
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture(scope="module")
def llama(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LlamaServer]:
    """A running llama-server (one per test module), or a skip saying why there is none."""
    found = _cached()
    if isinstance(found, str):
        pytest.skip(found)
    server = LlamaServer(*found, tmp_path_factory.mktemp("llama") / "server.log")
    server.start()
    try:
        yield server
    finally:
        server.stop()
