"""ASGI plumbing for the simulator: an event stream that stops when its client leaves, a
deliberate mid-answer drop, and waiting for a client to go away."""

from __future__ import annotations

import asyncio
import logging

from starlette.requests import Request
from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

HANG_MAX_S = 600.0
"""A hang lasts until the client leaves, or this long."""


class EventStream(StreamingResponse):
    """A streaming response that stops when the client leaves, on plain asyncio.

    Starlette's own runs every response in an anyio task group, whose cancel scopes cost more
    than the simulator's whole answer under load; here one small watcher task does the job.
    """

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        streaming = asyncio.current_task()
        assert streaming is not None
        left = False

        async def watch() -> None:
            nonlocal left
            while (await receive())["type"] != "http.disconnect":
                pass
            left = True
            streaming.cancel()

        watcher = asyncio.get_running_loop().create_task(watch())
        try:
            await self.stream_response(send)
        except asyncio.CancelledError:
            if not left:
                raise
            streaming.uncancel()  # the client went away: the answer simply stops
        finally:
            watcher.cancel()


class Abort(Exception):
    """Raised inside a stream to drop the connection mid-answer (the `disconnect` fault)."""


class _QuietAborts(logging.Filter):
    """Keep the deliberate drops out of uvicorn's error log."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
            exc = exc.exceptions[0]
        return not isinstance(exc, Abort)


logging.getLogger("uvicorn.error").addFilter(_QuietAborts())


async def until_disconnect(request: Request, limit: float = HANG_MAX_S) -> bool:
    """Wait until the client goes away (True) or `limit` seconds pass (False).

    With the default limit, this is how a hung server looks from outside.
    """
    try:
        async with asyncio.timeout(limit):
            while (await request.receive())["type"] != "http.disconnect":
                pass
    except TimeoutError:
        return False
    return True
