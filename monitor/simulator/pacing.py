"""When each part of an answer goes out: the first token at its due time, then one token every
1/tokens_per_s, batched into writes; and every fault played out in the shape a stream or a whole
reply can take."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from starlette.requests import Request
from starlette.responses import Response

from monitor.simulator.asgi import Abort, until_disconnect
from monitor.simulator.faults import Fault
from monitor.simulator.scenario import Behaviour
from monitor.simulator.wire import Call, Wire, json_response

FLUSH_BYTES = 64 * 1024  # tokens due at once are sent in writes of about this size


async def frames(
    wire: Wire,
    call: Call,
    pieces: list[str],
    behaviour: Behaviour,
    fault: Fault | None,
    first_at: float,
    request: Request,
) -> AsyncIterator[bytes]:
    """The event stream of an answer whose first token is due at `first_at` (loop time)."""
    loop = asyncio.get_running_loop()
    head = wire.head(call)
    if head:
        yield head
    if fault is Fault.HANG:
        await until_disconnect(request)
        return
    if fault is Fault.GARBAGE:
        await asyncio.sleep(max(0.0, first_at - loop.time()))
        yield b'data: {"choices": [{"delta": {"content": "4\n\ndata: <html><body>502</body>\n\n'
        return
    keepalive = wire.keepalive() if behaviour.keepalive > 0 and pieces else b""
    while keepalive and first_at - loop.time() > behaviour.keepalive:
        await asyncio.sleep(behaviour.keepalive)
        yield keepalive
    broken = fault is not None and fault.breaks_the_stream
    count = min(behaviour.fail_after, len(pieces)) if broken else len(pieces)
    gap = 1.0 / behaviour.tokens_per_s if behaviour.tokens_per_s else 0.0
    # A broken stream never carries Gemini's finishReason (its end-of-answer mark).
    last = len(pieces) - 1 if not broken else -1
    batch: list[bytes] = []
    size = 0
    for i in range(count):
        wait = first_at + i * gap - loop.time()
        if wait > 0 or size > FLUSH_BYTES:
            if batch:
                yield b"".join(batch)
                batch, size = [], 0
            if wait > 0:
                await asyncio.sleep(wait)
        frame = wire.token(call, pieces[i], i == last)
        batch.append(frame)
        size += len(frame)
    if batch:
        yield b"".join(batch)
    if fault in (Fault.MID_STREAM_ERROR, Fault.MID_STREAM_OVERLOADED):
        yield wire.stream_error(call, fault is Fault.MID_STREAM_OVERLOADED)
    elif fault is Fault.DISCONNECT:
        raise Abort("dropped mid-stream by the scenario")
    elif fault is not Fault.TRUNCATE:
        yield wire.tail(call)


async def whole(
    wire: Wire,
    call: Call,
    text: str,
    pieces: list[str],
    behaviour: Behaviour,
    fault: Fault | None,
    first_at: float,
    request: Request,
    array: bool,
) -> Response:
    """A non-streaming answer: the same faults, in the shape a whole reply can take."""
    if fault is Fault.HANG:
        await until_disconnect(request)
        return Response(status_code=504)
    if fault in (Fault.MID_STREAM_ERROR, Fault.MID_STREAM_OVERLOADED):
        return wire.error(
            "overloaded" if fault is Fault.MID_STREAM_OVERLOADED else "api_error", call
        )
    gap = len(pieces) / behaviour.tokens_per_s if behaviour.tokens_per_s else 0.0
    wait = first_at + gap - asyncio.get_running_loop().time()
    if wait > 0 and await until_disconnect(request, wait):
        return Response(status_code=499)  # nobody is listening any more
    if fault in (Fault.TRUNCATE, Fault.DISCONNECT):
        raise Abort("dropped before the reply by the scenario")
    if fault is Fault.GARBAGE:
        return Response(b'{"choices": [{"message": ', 200, media_type="application/json")
    body = wire.complete(call, text)
    return json_response(200, [body] if array else body, wire.headers(call))
