"""A database that is locked, read-only, full or down: probing goes on, results wait and are all
written once it returns. Real `brownout run` subprocesses against the simulator, real SQLite files
on real (bind-mounted, size-limited) filesystems, a throwaway PostgreSQL stopped and started."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from glob import glob
from pathlib import Path
from typing import Any

import httpx
import pytest

from monitor.dashboard_process import free_port
from monitor.result import Outcome, ProbeResult
from monitor.simulator import SimulatorHandle
from monitor.store import open_store, results

# Each test runs real monitors through a database outage and its recovery: minutes under load,
# more than the suite's 120 s default allows (the waits inside are bounded on their own).
pytestmark = pytest.mark.timeout(600)

MODELS = ["gpt-4o-mini", "gpt-4o", "gpt-4.1-mini"]


def _config(tmp_path: Path, sim: SimulatorHandle, url: str) -> Path:
    path = tmp_path / "probes.yaml"
    path.write_text(f"""\
storage:
  url: {url}
schedule:
  interval: 1s
  timeout: 10s
  jitter: 0.2
providers:
  openai:
    kind: openai
    base_url: {sim.openai_url}
    api_key: sk-test-key-for-the-simulator
    models: [{", ".join(MODELS)}]
canaries:
  - name: arithmetic
    prompt: "What is 17 * 23? Reply with the number only."
    expect: {{equals: "391"}}
""")
    return path


def _wait_for(predicate: Callable[[], bool], limit: float = 180.0) -> None:
    """Poll until `predicate` holds; bounded, so a broken monitor fails instead of hanging."""
    deadline = time.monotonic() + limit
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached")
        time.sleep(0.2)


def _served(sim: SimulatorHandle) -> int:
    return sum(sim.counts.values())


@dataclass
class Running:
    """A `brownout run --http` subprocess."""

    proc: subprocess.Popen[str]
    port: int

    def health(self) -> dict[str, Any]:
        try:
            body: dict[str, Any] = httpx.get(
                f"http://127.0.0.1:{self.port}/healthz", timeout=5
            ).json()
            return body
        except httpx.HTTPError:
            return {}

    def database(self) -> str | None:
        return self.health().get("runner", {}).get("database")

    def backlog(self) -> int:
        return int(self.health().get("backlog", {}).get("results", 0))

    def stop(self) -> str:
        """SIGTERM, wait; the log (stderr)."""
        self.proc.send_signal(signal.SIGTERM)
        _out, err = self.proc.communicate(timeout=120)
        assert self.proc.returncode == 0, err
        return err


_RUNNING: list[subprocess.Popen[str]] = []


@pytest.fixture(autouse=True)
def _no_monitor_left_behind() -> Iterator[None]:
    yield
    while _RUNNING:
        proc = _RUNNING.pop()
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=60)


def _spawn(config: Path, port: int, env: dict[str, str] | None = None) -> Running:
    base = {k: v for k, v in os.environ.items() if not k.startswith("BROWNOUT_")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "monitor", "run", "--config", str(config), "--http",
         f"127.0.0.1:{port}"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=base | (env or {}),
    )  # fmt: skip
    _RUNNING.append(proc)
    return Running(proc, port)


def _start(config: Path, env: dict[str, str] | None = None) -> Running:
    """A monitor that has stored its first results."""
    running = _spawn(config, free_port(), env)
    _wait_for(lambda: bool(running.health().get("runner", {}).get("results_stored")))
    return running


def _stored(url: str) -> list[ProbeResult]:
    store = open_store(url)
    try:
        return list(results.between(store))
    finally:
        store.close()


def _assert_every_probe_stored_once(url: str, sim: SimulatorHandle) -> list[ProbeResult]:
    stored = _stored(url)
    keys = Counter((r.target, r.canary, r.ts) for r in stored)
    assert [k for k, n in keys.items() if n > 1] == []
    assert len(stored) == _served(sim)  # one request per probe: every probe due was stored
    assert {r.outcome for r in stored} == {Outcome.OK}
    return stored


def _assert_one_line_each(log: str) -> None:
    assert "Traceback" not in log
    failing = [line for line in log.splitlines() if "database writes are" in line]
    recovered = [line for line in log.splitlines() if "database writes recovered" in line]
    assert len(failing) == 1, log
    assert len(recovered) == 1, log


def _probes_go_on(sim: SimulatorHandle, running: Running, more: int = 6) -> None:
    """While the database is away: it is reported at once, and probes keep being made."""
    _wait_for(lambda: running.database() == "failing", limit=120)
    served = _served(sim)
    _wait_for(lambda: _served(sim) >= served + more, limit=180)
    health = running.health()
    assert health["status"] == "failing"
    assert health["database"] == "failing"
    assert health["backlog"]["results"] > 0


def _recovers(running: Running) -> None:
    _wait_for(lambda: running.database() == "ok" and running.backlog() == 0)


def _need_root() -> None:
    if os.geteuid() != 0:
        pytest.skip("mounting a filesystem needs root")


@contextlib.contextmanager
def _mounted(*args: str, at: Path) -> Iterator[Path]:
    at.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", *args, str(at)], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount here: {done.stderr.strip()}")
    try:
        yield at
    finally:
        subprocess.run(["umount", "-l", str(at)], capture_output=True)


def test_probing_goes_on_while_another_connection_holds_the_sqlite_write_lock(
    tmp_path: Path, simulator: SimulatorHandle
) -> None:
    url = f"sqlite:///{tmp_path}/brownout.db"
    running = _start(_config(tmp_path, simulator, url))
    lock = sqlite3.connect(tmp_path / "brownout.db", isolation_level=None)
    lock.execute("BEGIN IMMEDIATE")
    try:
        _probes_go_on(simulator, running)
    finally:
        lock.execute("ROLLBACK")
        lock.close()
    _recovers(running)
    log = running.stop()
    _assert_every_probe_stored_once(url, simulator)
    _assert_one_line_each(log)


def test_results_wait_while_the_sqlite_file_is_read_only_and_are_written_after(
    tmp_path: Path, simulator: SimulatorHandle
) -> None:
    _need_root()
    real = tmp_path / "real"
    real.mkdir()
    url_real = f"sqlite:///{real}/brownout.db"
    open_store(url_real).close()
    # A reader that keeps the WAL open (as the dashboard does), so the file opens read-only.
    reader = sqlite3.connect(real / "brownout.db")
    reader.execute("SELECT count(*) FROM probe_results").fetchall()
    with _mounted("--bind", str(real), at=tmp_path / "db") as db:
        subprocess.run(["mount", "-o", "remount,bind,ro", str(db)], check=True)
        running = _spawn(_config(tmp_path, simulator, f"sqlite:///{db}/brownout.db"), free_port())
        _probes_go_on(simulator, running)
        subprocess.run(["mount", "-o", "remount,bind,rw", str(db)], check=True)
        _recovers(running)
        log = running.stop()
    reader.close()
    _assert_every_probe_stored_once(url_real, simulator)
    _assert_one_line_each(log)


def test_results_wait_while_the_filesystem_is_full_and_are_written_after(
    tmp_path: Path, simulator: SimulatorHandle
) -> None:
    _need_root()
    with _mounted("-t", "tmpfs", "-o", "size=3m", "tmpfs", at=tmp_path / "small") as small:
        url = f"sqlite:///{small}/brownout.db"
        running = _start(_config(tmp_path, simulator, url))
        with contextlib.suppress(OSError), open(small / "filler", "wb") as filler:
            while True:
                filler.write(b"\0" * 65536)
                filler.flush()
        _probes_go_on(simulator, running, more=12)
        (small / "filler").unlink()
        _recovers(running)
        log = running.stop()
        _assert_every_probe_stored_once(url, simulator)
    assert "Traceback" not in log
    assert len([line for line in log.splitlines() if "database writes recovered" in line]) == 1


# --- a throwaway PostgreSQL, never the machine's shared one ---------------------------------------


@dataclass
class Postgres:
    data: Path
    port: int

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _ctl(self, *args: str) -> None:
        subprocess.run(
            ["runuser", "-u", "postgres", "--", _pg_bin("pg_ctl"), "-D", str(self.data), *args],
            check=True,
            capture_output=True,
            timeout=60,
        )

    def start(self) -> None:
        self._ctl(
            "-w", "-l", str(self.data / "log"), "-o",
            f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1", "start",
        )  # fmt: skip

    def stop(self) -> None:
        self._ctl("-w", "-m", "fast", "stop")


def _pg_bin(name: str) -> str:
    found = sorted(glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not found:
        pytest.skip("no PostgreSQL binaries under /usr/lib/postgresql")
    return found[-1]


@pytest.fixture
def throwaway_pg() -> Iterator[Postgres]:
    """A PostgreSQL of our own (initdb in a temp dir, a free port), removed afterwards."""
    _need_root()
    initdb = _pg_bin("initdb")
    data = Path(tempfile.mkdtemp(prefix="brownout-pg-"))
    shutil.chown(data, "postgres", "postgres")
    subprocess.run(
        ["runuser", "-u", "postgres", "--", initdb, "-D", str(data), "-A", "trust", "-U",
         "postgres"],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    pg = Postgres(data, free_port())
    pg.start()
    try:
        yield pg
    finally:
        with contextlib.suppress(subprocess.SubprocessError):
            pg.stop()
        shutil.rmtree(data, ignore_errors=True)


def test_results_wait_while_postgresql_is_down_and_are_written_after(
    tmp_path: Path, simulator: SimulatorHandle, throwaway_pg: Postgres
) -> None:
    env = {"BROWNOUT_STATE_DIR": str(tmp_path / "state")}
    running = _start(_config(tmp_path, simulator, throwaway_pg.url), env)
    throwaway_pg.stop()
    try:
        _probes_go_on(simulator, running)
    finally:
        throwaway_pg.start()
    _recovers(running)
    log = running.stop()
    _assert_every_probe_stored_once(throwaway_pg.url, simulator)
    _assert_one_line_each(log)


def _spooled(state: Path) -> list[dict[str, Any]]:
    records = []
    for spool in state.glob("spool-*.jsonl"):
        for line in spool.read_bytes().splitlines():
            records += json.loads(line.partition(b" ")[2])["results"]
    return records


def test_a_spool_left_by_a_killed_monitor_is_written_at_the_next_start_once(
    tmp_path: Path, simulator: SimulatorHandle, throwaway_pg: Postgres
) -> None:
    state = tmp_path / "state"
    env = {"BROWNOUT_STATE_DIR": str(state)}
    config = _config(tmp_path, simulator, throwaway_pg.url)
    first = _start(config, env)
    throwaway_pg.stop()
    _probes_go_on(simulator, first)
    _wait_for(lambda: first.health().get("backlog", {}).get("spooled", 0) >= 6)
    first.proc.kill()
    first.proc.communicate(timeout=60)
    spooled = _spooled(state)
    assert len(spooled) >= 6
    throwaway_pg.start()

    second = _start(config, env)
    _wait_for(lambda: second.backlog() == 0)
    second.stop()
    stored = _stored(throwaway_pg.url)
    keys = Counter((r.target, r.canary, r.ts.isoformat()) for r in stored)
    assert [k for k, n in keys.items() if n > 1] == []
    for record in spooled:
        assert keys[(record["target"], record["canary"], record["ts"])] == 1
    assert _spooled(state) == []
