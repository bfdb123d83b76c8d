"""The HTTP API runs on its own thread and event loop: a request that keeps the API busy does
not stop the monitor's loop (where probes are timed)."""

from __future__ import annotations

import asyncio
import socket
import threading

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from monitor.api.server import ApiThread
from monitor.dashboard_process import free_port
from monitor.errors import UsageError


async def test_a_request_that_holds_the_api_does_not_stop_the_monitors_loop() -> None:
    ticks = 0
    seen: dict[str, int] = {}
    release = threading.Event()

    async def busy(request: Request) -> Response:
        # Blocks the loop it runs on (as heavy encoding or a slow read would), until released.
        seen["start"] = ticks
        release.wait(timeout=30)
        seen["end"] = ticks
        return JSONResponse({"ok": True})

    app = Starlette(routes=[Route("/busy", busy)])
    app.state.token = None
    api = ApiThread(app, "127.0.0.1", free_port())
    port = await asyncio.to_thread(api.start)
    try:
        request = asyncio.create_task(
            asyncio.to_thread(httpx.get, f"http://127.0.0.1:{port}/busy", timeout=60)
        )
        for _ in range(3000):  # bounded: until the API holds the request
            if "start" in seen:
                break
            await asyncio.sleep(0.01)
        for _ in range(20):  # the monitor's loop goes on while the API is held
            ticks += 1
            await asyncio.sleep(0.01)
        release.set()
        response = await request
    finally:
        release.set()
        await asyncio.to_thread(api.stop)
    assert response.status_code == 200
    assert seen["end"] - seen["start"] == 20


def test_an_address_that_cannot_be_bound_is_refused_at_start() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        app = Starlette(routes=[])
        app.state.token = None
        with pytest.raises(UsageError, match="cannot listen"):
            ApiThread(app, "127.0.0.1", taken.getsockname()[1]).start()
