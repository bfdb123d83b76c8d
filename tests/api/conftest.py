"""Fixtures for the API tests: a config with a family, seeded results, and the app served for
real on a loopback port (in a thread with its own event loop, so sync tests can call it)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from starlette.applications import Starlette

from monitor.api.server import build_app, serve
from monitor.config import Config
from monitor.result import Outcome, ProbeResult, utcnow
from monitor.store import Store
from monitor.store import results as stored

SECRET = "sk-test-Zq8v1LmN4pR7sT0uW3xY6aB9cD2eF5gH"  # a fake key
TARGETS = [
    "openai/gpt-4o-mini",
    "anthropic/claude-haiku-4-5",
    "openrouter/meta-llama/llama-3.3-70b-instruct",
]


def make_config(**extra: Any) -> Config:
    data: dict[str, Any] = {
        "providers": {
            "openai": {
                "kind": "openai",
                "base_url": "http://127.0.0.1:9/v1",
                "api_key": SECRET,
                "headers": {"x-private": SECRET},
                "models": ["gpt-4o-mini"],
                "price": {"gpt-4o-mini": {"input": 0.15, "output": 0.60}},
            },
            "anthropic": {
                "kind": "anthropic",
                "base_url": "http://127.0.0.1:9",
                "api_key": SECRET,
                "models": ["claude-haiku-4-5"],
                "price": {"claude-haiku-4-5": {"input": 1.0, "output": 5.0}},
            },
            "openrouter": {
                "kind": "openai",
                "base_url": "http://127.0.0.1:9/api/v1",
                "api_key": SECRET,
                "models": ["meta-llama/llama-3.3-70b-instruct"],
            },
        },
        "families": {"fast-small": TARGETS[:2], "all": TARGETS},
    }
    data.update(extra)
    return Config.model_validate(data)


@pytest.fixture
def config() -> Config:
    return make_config()


def probe(
    target: str,
    ts: datetime,
    outcome: str = "ok",
    *,
    ttft_ms: float | None = 300.0,
    latency_ms: float | None = 500.0,
    quality_ok: bool | None = True,
    tokens_per_s: float | None = 40.0,
    cost_usd: float | None = 0.00001,
) -> ProbeResult:
    provider, _, model = target.partition("/")
    answered = Outcome(outcome).answered
    return ProbeResult(
        ts=ts,
        target=target,
        provider=provider,
        model=model,
        canary="arithmetic",
        outcome=Outcome(outcome),
        http_status=200 if answered else 503,
        ttft_ms=ttft_ms if answered else None,
        latency_ms=latency_ms if answered else None,
        tokens_per_s=tokens_per_s if answered else None,
        quality_ok=(quality_ok if outcome == "ok" else False) if answered else None,
        output_tokens=2 if answered else None,
        cost_usd=cost_usd if answered else None,
        answer="391" if answered else None,
        error=None if answered else "overloaded",
    )


Seed = Callable[..., None]


@pytest.fixture
def seed(store: Store) -> Seed:
    """seed(target, outcomes, minutes_ago=…, **fields): one result a minute, ending `ago` ago."""

    def add(target: str, outcomes: list[str], *, ago: float = 1.0, **fields: Any) -> None:
        now = utcnow()
        n = len(outcomes)
        stored.record(
            store,
            [
                probe(target, now - timedelta(minutes=ago + (n - 1 - i) * 0.5), o, **fields)
                for i, o in enumerate(outcomes)
            ],
        )

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
