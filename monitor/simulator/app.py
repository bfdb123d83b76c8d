"""The simulator's ASGI app: one server, every protocol in `wires.WIRES`, behaviour from a scenario.

    sim = Simulator("scenarios/healthy.yaml")      # or a dict, or a Scenario
    uvicorn.run(sim.app, ...)                      # or `run_in_thread` (thread.py)

Paths as the real services have them (each wire's `chat_paths`): OpenAI
`POST /v1/chat/completions`, Anthropic `POST /v1/messages`, Gemini
`POST /v1beta/models/{model}:streamGenerateContent` (SSE with `alt=sse`) and `:generateContent`.
Streaming and non-streaming both answer. What happens to each request (its delay, answer and
fault) is drawn from the scenario at the simulator's clock (`plan.py`) and played out in time
(`pacing.py`).
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter, deque
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from monitor.simulator import pacing
from monitor.simulator.answers import answer_for, tokens
from monitor.simulator.asgi import EventStream, until_disconnect
from monitor.simulator.bomb import gzip_bomb
from monitor.simulator.clock import SimClock
from monitor.simulator.faults import Fault
from monitor.simulator.logprobs import token_logprobs
from monitor.simulator.plan import draw_delay, draw_fault, make_call
from monitor.simulator.routes import routes
from monitor.simulator.scenario import Behaviour, Scenario, load_scenario
from monitor.simulator.tool_calls import NO_CALL_TEXT, plan_tool_call
from monitor.simulator.wire import Call, Endpoint, Wire
from monitor.simulator.wires import WIRES

LOG_SIZE = 1000


class Simulator:
    """The state behind the app: scenario, clock, randomness, and a bounded log of requests."""

    def __init__(
        self,
        scenario: str | Path | dict[str, Any] | Scenario | None = None,
        *,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.scenario = load_scenario(scenario)
        self.clock: Callable[[], float] = clock or SimClock()
        self.rng = random.Random(self.scenario.seed)
        self.requests: deque[dict[str, Any]] = deque(maxlen=LOG_SIZE)
        self.counts: Counter[str] = Counter()
        self.in_flight = 0  # answers being sent now (streams end when their client leaves)
        wires = [cls() for cls in WIRES]
        self._router = Starlette(routes=routes(wires, self._answer, lambda: self.scenario))

        async def app(scope: Scope, receive: Receive, send: Send) -> None:
            # A request's clock starts here, before routing, so the scripted TTFT holds from as
            # close to the request's arrival as the server can see.
            scope["brownout.arrived"] = asyncio.get_running_loop().time()
            await self._router(scope, receive, send)

        self.app = app
        """The ASGI app to serve."""

    def set_scenario(self, scenario: str | Path | dict[str, Any] | Scenario | None) -> None:
        """Swap the scenario (atomically for new requests; calls in flight finish as they began)."""
        self.scenario = load_scenario(scenario)
        if self.scenario.seed is not None:
            self.rng = random.Random(self.scenario.seed)

    async def _answer(self, wire: Wire, request: Request, endpoint: Endpoint) -> Response:
        started: float = request.scope.get("brownout.arrived") or asyncio.get_running_loop().time()
        scenario = self.scenario
        try:
            body = await request.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return wire.error("bad_request", Call("", "", None, "", False))
        model = endpoint.model or str(body.get("model") or "")
        stream = bool(body.get("stream")) if endpoint.stream is None else endpoint.stream
        behaviour = scenario.behaviour(model, self.clock())
        call = make_call(wire, request, body, model, stream, behaviour)
        fault = draw_fault(self.rng, wire, request, body, call, behaviour, scenario)
        self.counts[f"{wire.name}:{fault or 'ok'}"] += 1
        self.requests.append(
            {
                "protocol": wire.name,
                "model": model,
                "stream": stream,
                "fault": fault,
                "prompt": call.prompt[:500],
                "max_tokens": body.get("max_tokens")
                or (body.get("generationConfig") or {}).get("maxOutputTokens"),
            }
        )
        if isinstance(fault, Response):
            return fault
        assert behaviour is not None
        if fault is not None and fault.is_http_error:
            return wire.error(fault, call)
        if fault is Fault.NO_HEADERS:
            await until_disconnect(request)
            return Response(status_code=504)
        if fault is Fault.GZIP_BOMB:
            return EventStream(
                _bomb(),
                media_type="text/event-stream" if stream else "application/json",
                headers={**wire.headers(call), "content-encoding": "gzip"},
            )
        offered, choice = wire.tools(body)
        call.tool = plan_tool_call(
            self.rng, dict(behaviour.tool_faults), call.prompt, offered, choice
        )
        if fault is Fault.EMPTY:
            text, call.tool = "", None
        elif call.tool is not None:
            text = call.tool.arguments
        elif offered and choice != "none":
            text = NO_CALL_TEXT  # the no_tool_call fault: words instead of the call
        else:
            text = answer_for(scenario, behaviour, call.prompt, self.rng)
        whole = call.tool is not None and wire.whole_tool_calls
        pieces = [text] if whole else tokens(text)
        limit = wire.max_tokens(body)
        if limit is not None and len(pieces) > limit and not whole:
            pieces = pieces[: max(0, limit)]
            text = "".join(pieces)
            call.stop = "length"
        elif call.tool is not None:
            call.stop = "tool"
        call.output_tokens = len(tokens(text)) or len(pieces)
        if call.top_logprobs is not None and call.tool is None:
            call.logprobs = token_logprobs(
                pieces,
                call.top_logprobs,
                model=model,
                prompt=call.prompt,
                weights=behaviour.weights,
                noise=behaviour.logprob_noise,
                rng=self.rng,
            )
        first_at = started + draw_delay(self.rng, behaviour)
        if stream:
            return EventStream(
                self._stream(wire, call, pieces, behaviour, fault, first_at, request),
                media_type="text/event-stream",
                headers={**wire.headers(call), "cache-control": "no-cache"},
            )
        self.in_flight += 1
        try:
            return await pacing.whole(
                wire, call, text, pieces, behaviour, fault, first_at, request, endpoint.array
            )
        finally:
            self.in_flight -= 1

    async def _stream(
        self,
        wire: Wire,
        call: Call,
        pieces: list[str],
        behaviour: Behaviour,
        fault: Fault | None,
        first_at: float,
        request: Request,
    ) -> AsyncIterator[bytes]:
        self.in_flight += 1
        try:
            async for frame in pacing.frames(
                wire, call, pieces, behaviour, fault, first_at, request
            ):
                yield frame
        finally:
            self.in_flight -= 1


async def _bomb() -> AsyncIterator[bytes]:
    for piece in gzip_bomb():
        yield piece
        await asyncio.sleep(0)  # one write at a time: other requests are served meanwhile
