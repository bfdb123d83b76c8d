"""Fixtures every test area shares: real databases (SQLite in tmp_path, the local PostgreSQL).

Area fixtures live in `tests/<area>/conftest.py`.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from monitor.simulator import SimulatorHandle, run_in_thread
from monitor.store import Store, open_store

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
