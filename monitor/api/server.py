"""The HTTP API app and its server.

    app = build_app(store, config, health=runner.health)   # token from BROWNOUT_API_TOKEN
    await serve(app, "127.0.0.1", 8080)                     # until cancelled

Read-only (GET and HEAD only), loopback by default. With a token, every path but `/healthz`
needs `Authorization: Bearer TOKEN`; `serve` refuses a non-loopback address without one. No
response ever holds an API key: the API reads figures and statuses, never provider config
beyond kind and base URL.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import functools
import hmac
import ipaddress
import logging
import os
import socket
import threading
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import nullcontext
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from monitor.api import handlers
from monitor.api.metrics import StoreCollector, registry_for
from monitor.config import Config
from monitor.errors import StorageError, UsageError
from monitor.store import Store

log = logging.getLogger(__name__)
TOKEN_ENV = "BROWNOUT_API_TOKEN"
OPEN_PATHS = frozenset({"/healthz"})


def _is_feed(path: str) -> bool:
    return path.startswith("/public/") and path.endswith((".atom", ".rss"))


# The paths of each surface `api.public` may serve without the token (monitor.config.api).
PUBLIC_PATHS: dict[str, Callable[[str], bool]] = {
    "badges": lambda path: path.startswith("/badge/"),
    "status": lambda path: path == "/public/status.json",
    "feed": _is_feed,
}


def public_path(path: str, surfaces: Sequence[str]) -> bool:
    """Whether `path` belongs to one of the `surfaces` the config makes public."""
    return path in OPEN_PATHS or any(PUBLIC_PATHS[s](path) for s in surfaces)


def api_token(env: Mapping[str, str] | None = None) -> str | None:
    """The bearer token from `BROWNOUT_API_TOKEN`, or None when unset or empty."""
    env = os.environ if env is None else env
    return env.get(TOKEN_ENV) or None


class BearerAuth:
    """ASGI middleware: 401 unless the request carries the token (constant-time compare), except
    on `/healthz` and the `public` surfaces (`api.public` in the config)."""

    def __init__(self, app: ASGIApp, token: str, public: Sequence[str] = ()) -> None:
        self.app, self.expected = app, f"Bearer {token}".encode()
        self.public = tuple(public)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not public_path(scope["path"], self.public):
            given = dict(scope["headers"]).get(b"authorization", b"")
            if not hmac.compare_digest(given, self.expected):
                response = JSONResponse(
                    {"error": "missing or wrong bearer token"},
                    status_code=401,
                    headers={"www-authenticate": 'Bearer realm="brownout"'},
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _guard(endpoint: Callable[[Request], Response]) -> Callable[[Request], Response]:
    """Turn the handlers' exceptions into answers: 400, 404, and 503 when the database fails."""

    @functools.wraps(endpoint)
    def guarded(request: Request) -> Response:
        try:
            return endpoint(request)
        except handlers.BadRequest as exc:
            return handlers.error(400, str(exc))
        except handlers.NotFound as exc:
            return handlers.error(404, str(exc))
        except StorageError as exc:
            log.warning("%s %s: %s", request.method, request.url.path, exc)
            return handlers.error(503, "the database is not available")

    return guarded


async def _not_found(request: Request, exc: Exception) -> Response:
    return handlers.error(404, "not found")


async def _not_allowed(request: Request, exc: Exception) -> Response:
    return handlers.error(405, "the API is read-only")


def build_app(
    store: Store,
    config: Config,
    *,
    health: Callable[[], dict[str, Any]] | None = None,
    token: str | None = None,
) -> Starlette:
    """The API as an ASGI app. `token` None reads `BROWNOUT_API_TOKEN`; pass "" for none."""
    token = api_token() if token is None else token or None
    g = _guard
    routes = [
        Route("/healthz", g(handlers.healthz), methods=["GET"]),
        Route("/metrics", g(handlers.metrics), methods=["GET"]),
        Route("/api/status", g(handlers.status), methods=["GET"]),
        Route("/api/incidents", g(handlers.incidents), methods=["GET"]),
        Route("/api/official", g(handlers.official_pages), methods=["GET"]),
        Route("/api/route", g(handlers.route), methods=["GET"]),
        Route(
            "/api/targets/{provider}/{model:path}/history",
            g(handlers.target_history),
            methods=["GET"],
        ),
        # The uptime route first: `{model:path}.svg` would also match `…/uptime.svg`.
        Route(
            "/badge/{provider}/{model:path}/uptime.svg", g(handlers.uptime_badge), methods=["GET"]
        ),
        Route("/badge/{provider}/{model:path}.svg", g(handlers.status_badge), methods=["GET"]),
        Route("/public/status.json", g(handlers.public_status), methods=["GET"]),
        Route("/public/incidents.{kind}", g(handlers.incident_feed), methods=["GET"]),
        Route(
            "/public/providers/{provider}/incidents.{kind}",
            g(handlers.incident_feed),
            methods=["GET"],
        ),
        Route("/openapi.json", handlers.openapi_json, methods=["GET"]),
        Route("/openapi.yaml", handlers.openapi_yaml, methods=["GET"]),
    ]
    app = Starlette(routes=routes, exception_handlers={404: _not_found, 405: _not_allowed})
    app.state.store = store
    app.state.config = config
    app.state.health = health
    app.state.token = token
    app.state.registry = registry_for(StoreCollector(store, config))
    if token:
        app.add_middleware(BearerAuth, token=token, public=config.api.public)
    return app


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class _Server(uvicorn.Server):
    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.listening = asyncio.Event()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        self.listening.set()

    def capture_signals(self) -> Any:
        # The runner owns the process's signals; the API stops when its task is cancelled.
        return nullcontext()


async def serve(
    app: Starlette,
    host: str,
    port: int,
    *,
    ready: Callable[[int], Awaitable[None] | None] | None = None,
) -> None:
    """Serve `app` on the running loop until cancelled, then shut down cleanly.

    Port 0 picks a free port; `ready(port)` is called once it listens. Raises UsageError for a
    non-loopback host without a token, or when the address cannot be bound.
    """
    if not is_loopback(host) and not app.state.token:
        raise UsageError(f"serving the API on {host} needs a token: set {TOKEN_ENV}")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise UsageError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    sock.listen(128)
    sock.setblocking(False)
    bound = sock.getsockname()[1]
    server = _Server(uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        listening = asyncio.create_task(server.listening.wait())
        await asyncio.wait({task, listening}, return_when=asyncio.FIRST_COMPLETED)
        listening.cancel()
        if task.done():
            await task
            return
        log.info("HTTP API on http://%s:%d", host, bound)
        if ready is not None:
            result = ready(bound)
            if result is not None:
                await result
        await asyncio.shield(task)
    except asyncio.CancelledError:
        server.should_exit = True
        await task
        raise
    finally:
        sock.close()


API_WORKERS = 2  # threads answering requests at once: bounded, so they cannot crowd the probes


class ApiThread:
    """The API served from its own thread and event loop, off the probes' clock.

        api = ApiThread(app, "127.0.0.1", 8321)
        port = api.start()      # returns once it listens; raises what stopped it (UsageError)
        ...
        api.stop()

    Requests are parsed, answered and encoded on this thread's loop; the handlers' database
    reads run in at most `API_WORKERS` worker threads. 200 requests at once then queue here
    instead of delaying probes on the monitor's loop (`bench/isolation.py` measures it).
    """

    def __init__(self, app: Starlette, host: str, port: int) -> None:
        self.app, self.host, self.port = app, host, port
        self._ready: concurrent.futures.Future[int] = concurrent.futures.Future()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._thread = threading.Thread(target=self._main, name="brownout-api", daemon=True)

    def start(self, within: float = 60.0) -> int:
        self._thread.start()
        return self._ready.result(timeout=within)

    def _main(self) -> None:
        asyncio.run(self._serve())

    async def _serve(self) -> None:
        import anyio.to_thread

        anyio.to_thread.current_default_thread_limiter().total_tokens = API_WORKERS
        self._loop = asyncio.get_running_loop()
        self._task = asyncio.current_task()
        try:
            await serve(self.app, self.host, self.port, ready=self._listening)
        except asyncio.CancelledError:
            pass
        except BaseException as exc:
            if not self._ready.done():
                self._ready.set_exception(exc)
            else:
                log.error("the HTTP API stopped: %s", exc)

    def _listening(self, port: int) -> None:
        self._ready.set_result(port)

    def stop(self) -> None:
        """Stop serving (open requests are answered first) and wait for the thread."""
        loop, task = self._loop, self._task
        if loop is not None and task is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(task.cancel)
        self._thread.join(timeout=30)
