"""Fixtures every test area shares: real databases (SQLite in tmp_path, the local PostgreSQL),
the provider simulator, an httpx client, and the HTTP API served for real on a loopback port
(in a thread with its own event loop, so sync tests can call it).

Fixtures of one area live in `tests/<area>/conftest.py`; the data tests build from is made by
`tests/factories.py`.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text
from starlette.applications import Starlette

from monitor.api.server import build_app, serve
from monitor.config import Config
from monitor.result import Outcome, utcnow
from monitor.simulator import SimulatorHandle, run_in_thread
from monitor.store import Store, open_store, results
from tests.factories import Seed, api_config, probe

PG_ADMIN_URL = os.environ.get(
    "BROWNOUT_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@pytest.fixture
def sqlite_url(tmp_path: os.PathLike[str]) -> str:
    return f"sqlite:///{tmp_path}/brownout.db"


@pytest.fixture
def store(sqlite_url: str) -> Iterator[Store]:
    """A fresh SQLite database file in tmp_path."""
    s = open_store(sqlite_url)
    yield s
    s.close()


def _pg_available() -> str | None:
    try:
        engine = create_engine(PG_ADMIN_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as exc:  # any failure to connect means "absent" for the skip below
        return f"PostgreSQL at {PG_ADMIN_URL} is not reachable ({type(exc).__name__})"
    return None


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL schema on the local server (127.0.0.1:5432, trust auth, database test)."""
    reason = _pg_available()
    if reason:
        pytest.skip(reason)
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    sep = "&" if "?" in PG_ADMIN_URL else "?"
    yield f"{PG_ADMIN_URL}{sep}options=-csearch_path%3D{schema}"
    with admin.connect() as conn:
        conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, sqlite_url: str) -> str:
    """A database URL to open more than once (a restart, several processes): a SQLite file, or a
    fresh PostgreSQL schema."""
    return sqlite_url if request.param == "sqlite" else str(request.getfixturevalue("pg_url"))


@pytest.fixture(params=["sqlite", "postgresql"])
def any_store(request: pytest.FixtureRequest, sqlite_url: str) -> Iterator[Store]:
    """The same test on a SQLite file and on PostgreSQL."""
    url = sqlite_url if request.param == "sqlite" else request.getfixturevalue("pg_url")
    s = open_store(url)
    yield s
    s.close()


# --- The provider simulator on loopback (monitor.simulator) -------------------------------------

FAST_SCENARIO = {"name": "fast", "defaults": {"ttft": "10ms", "tokens_per_s": 1000}}
"""Every model answers correctly, quickly: the default for tests that need a working provider."""


@pytest.fixture
def simulator_factory() -> Iterator[Callable[..., SimulatorHandle]]:
    """Start simulators for custom scenarios: `sim = simulator_factory({"models": {...}})`.

    Each runs in a background thread on a free 127.0.0.1 port until the test ends; the handle has
    `url`, `openai_url`, `base_url(kind)`, `set_scenario(...)`, `advance(seconds)`, `requests`.
    """
    with contextlib.ExitStack() as stack:

        def start(scenario: Any = None, **kwargs: Any) -> SimulatorHandle:
            return stack.enter_context(run_in_thread(scenario or FAST_SCENARIO, **kwargs))

        yield start


@pytest.fixture
def simulator(simulator_factory: Callable[..., SimulatorHandle]) -> SimulatorHandle:
    """A simulator where every model answers correctly in ~10 ms (see FAST_SCENARIO)."""
    return simulator_factory(FAST_SCENARIO)


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as c:
        yield c


# --- The HTTP API on loopback (monitor.api) --------------------------------------------------


@pytest.fixture
def config() -> Config:
    """`tests.factories.api_config()`: three targets, two families."""
    return api_config()


@pytest.fixture
def seed(store: Store) -> Seed:
    """seed(target, outcomes, ago=…, **fields): results half a minute apart, the last `ago`
    minutes ago; a failure is an overloaded provider's 503."""

    def add(target: str, outcomes: list[str], *, ago: float = 1.0, **fields: Any) -> None:
        now = utcnow()
        n = len(outcomes)
        made = []
        for i, o in enumerate(outcomes):
            failed = {} if Outcome(o).answered else {"http_status": 503, "error": "overloaded"}
            ts = now - timedelta(minutes=ago + (n - 1 - i) * 0.5)
            made.append(probe(ts, target, outcome=o, **failed, **fields))
        results.record(store, made)

    return add


class Live:
    """The app served by `serve` on 127.0.0.1, in a thread with its own loop."""

    def __init__(self, app: Starlette) -> None:
        self.app = app
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._task: asyncio.Task[None] | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)

        def ready(port: int) -> None:
            self.port = port
            self._ready.set()

        self._task = self._loop.create_task(serve(self.app, "127.0.0.1", 0, ready=ready))
        try:
            self._loop.run_until_complete(self._task)
        except asyncio.CancelledError:
            pass
        except BaseException as exc:
            self._error = exc
            self._ready.set()
        finally:
            self._loop.close()

    def __enter__(self) -> Live:
        self._thread.start()
        self._ready.wait()
        if self._error is not None:
            raise self._error
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._task is not None
        self._loop.call_soon_threadsafe(self._task.cancel)
        self._thread.join()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@pytest.fixture
def serve_app() -> Iterator[Callable[[Starlette], str]]:
    """serve_app(app) -> base URL; every app is stopped when the test ends."""
    running: list[Live] = []

    def start(app: Starlette) -> str:
        live = Live(app).__enter__()
        running.append(live)
        return live.url

    yield start
    for live in running:
        live.__exit__()


@pytest.fixture
def api(store: Store, config: Config, serve_app: Callable[[Starlette], str]) -> str:
    """The base URL of the app over `store` and `config`, without a token."""
    return serve_app(build_app(store, config, token=""))
