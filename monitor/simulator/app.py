"""The simulator's ASGI app: one server, three protocols, behaviour from a scenario.

    sim = Simulator("scenarios/healthy.yaml")      # or a dict, or a Scenario
    uvicorn.run(sim.app, ...)                      # or `run_in_thread` (thread.py)

Paths as the real services have them: OpenAI `POST /v1/chat/completions`, Anthropic
`POST /v1/messages`, Gemini `POST /v1beta/models/{model}:streamGenerateContent` (SSE with
`alt=sse`) and `:generateContent`. Streaming and non-streaming both answer. What happens to each
request (its delay, answer and fault) is drawn from the scenario at the simulator's clock.
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
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from monitor.simulator.answers import answer_for, tokens
from monitor.simulator.anthropic_wire import AnthropicWire
from monitor.simulator.asgi import Abort, EventStream, until_disconnect
from monitor.simulator.clock import SimClock
from monitor.simulator.gemini_wire import GeminiWire
from monitor.simulator.openai_wire import OpenaiWire
from monitor.simulator.scenario import Behaviour, Scenario, load_scenario
from monitor.simulator.wire import Call, Wire, json_response

LOG_SIZE = 1000
_FLUSH_BYTES = 64 * 1024  # tokens due at once are sent in writes of about this size
_HTTP_FAULTS = frozenset(
    {
        "rate_limited",
        "insufficient_quota",
        "overloaded",
        "server_error",
        "api_error",
        "auth",
        "forbidden",
        "bad_request",
    }
)
_MID_STREAM = frozenset({"mid_stream_error", "mid_stream_overloaded", "truncate", "disconnect"})


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
        self._openai, self._anthropic, self._gemini = OpenaiWire(), AnthropicWire(), GeminiWire()
        self._router = Starlette(
            routes=[
                Route("/v1/chat/completions", self._openai_route, methods=["POST"]),
                Route("/v1/messages", self._anthropic_route, methods=["POST"]),
                Route("/v1beta/models/{rest:path}", self._gemini_route, methods=["POST"]),
                Route("/v1/models", self._list_models, methods=["GET"]),
                Route("/v1beta/models", self._list_models, methods=["GET"]),
                Route("/healthz", self._healthz, methods=["GET"]),
            ]
        )

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

    async def _list_models(self, request: Request) -> Response:
        """The models the scenario names (patterns are not listed), as each protocol lists them;
        `GET /v1/models` is Anthropic's when the request speaks Anthropic, else OpenAI's."""
        if request.url.path.startswith("/v1beta"):
            wire: Wire = self._gemini
        elif "anthropic-version" in request.headers or "x-api-key" in request.headers:
            wire = self._anthropic
        else:
            wire = self._openai
        call = Call("", "", None, "", False, key=wire.key(request))
        if not self.scenario.key_ok(call.key):
            return wire.error("auth", call)
        names = [m for m in self.scenario.models if not any(c in m for c in "*?[")]
        return json_response(200, wire.model_list(names), wire.headers(call))

    async def _healthz(self, request: Request) -> Response:
        return PlainTextResponse("ok")

    async def _openai_route(self, request: Request) -> Response:
        return await self._handle(self._openai, request, None, None)

    async def _anthropic_route(self, request: Request) -> Response:
        return await self._handle(self._anthropic, request, None, None)

    async def _gemini_route(self, request: Request) -> Response:
        model, _, method = request.path_params["rest"].rpartition(":")
        if method not in ("streamGenerateContent", "generateContent") or not model:
            return json_response(
                404, {"error": {"code": 404, "message": "Not Found", "status": "NOT_FOUND"}}
            )
        stream = method == "streamGenerateContent"
        if stream and request.query_params.get("alt") != "sse":
            # Without alt=sse, Gemini streams one JSON array; sent here whole, as one element.
            return await self._handle(self._gemini, request, model, False, array=True)
        return await self._handle(self._gemini, request, model, stream)

    async def _handle(
        self,
        wire: Wire,
        request: Request,
        model: str | None,
        stream: bool | None,
        *,
        array: bool = False,
    ) -> Response:
        started: float = request.scope.get("brownout.arrived") or asyncio.get_running_loop().time()
        scenario = self.scenario
        try:
            body = await request.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return wire.error("bad_request", Call("", "", None, "", False))
        model = model or str(body.get("model") or "")
        if stream is None:
            stream = bool(body.get("stream"))
        behaviour = scenario.behaviour(model, self.clock())
        prompt = wire.prompt(body)
        call = Call(
            model=model,
            answered_by=(behaviour.response_model if behaviour else None) or model,
            fingerprint=behaviour.system_fingerprint if behaviour else None,
            prompt=prompt,
            stream=stream,
            include_usage=(not stream or wire.wants_usage(body))
            and (behaviour is None or behaviour.usage),
            input_tokens=max(1, len(prompt) // 4),
            retry_after=behaviour.retry_after if behaviour else 2.0,
            key=wire.key(request),
        )
        fault = self._fault(wire, request, body, call, behaviour, scenario)
        self.counts[f"{wire.name}:{fault or 'ok'}"] += 1
        self.requests.append(
            {
                "protocol": wire.name,
                "model": model,
                "stream": stream,
                "fault": fault,
                "prompt": prompt[:500],
                "max_tokens": body.get("max_tokens")
                or (body.get("generationConfig") or {}).get("maxOutputTokens"),
            }
        )
        if isinstance(fault, Response):
            return fault
        assert behaviour is not None
        if fault in _HTTP_FAULTS:
            return wire.error(fault, call)
        if fault == "no_headers":
            await until_disconnect(request)
            return Response(status_code=504)
        text = "" if fault == "empty" else answer_for(scenario, behaviour, prompt, self.rng)
        pieces = tokens(text)
        limit = wire.max_tokens(body)
        if limit is not None and len(pieces) > limit:
            pieces = pieces[: max(0, limit)]
            text = "".join(pieces)
            call.stop = "length"
        call.output_tokens = len(pieces)
        delay = self._delay(behaviour)
        if stream:
            return EventStream(
                self._stream(wire, call, pieces, behaviour, fault, started + delay, request),
                media_type="text/event-stream",
                headers={**wire.headers(call), "cache-control": "no-cache"},
            )
        self.in_flight += 1
        try:
            return await self._whole(
                wire, call, text, pieces, behaviour, fault, started + delay, request, array
            )
        finally:
            self.in_flight -= 1

    def _fault(
        self,
        wire: Wire,
        request: Request,
        body: dict[str, Any],
        call: Call,
        behaviour: Behaviour | None,
        scenario: Scenario,
    ) -> Response | str | None:
        """The reply decided before any answer: a refusal (Response), a fault kind, or None."""
        if not scenario.key_ok(call.key):
            return wire.error("auth", call)
        early = wire.precheck(request, body, call)
        if early is not None:
            return early
        if behaviour is None:
            return wire.error("not_found", call)
        if behaviour.errors:
            draw = self.rng.random()
            for kind, chance in behaviour.errors.items():
                draw -= chance
                if draw < 0:
                    return kind
        return None

    def _delay(self, behaviour: Behaviour) -> float:
        delay = behaviour.ttft
        if behaviour.jitter:
            delay *= self.rng.lognormvariate(0.0, behaviour.jitter)
        if behaviour.spike_rate and self.rng.random() < behaviour.spike_rate:
            delay += behaviour.spike
        return delay

    async def _stream(
        self,
        wire: Wire,
        call: Call,
        pieces: list[str],
        behaviour: Behaviour,
        fault: str | None,
        first_at: float,
        request: Request,
    ) -> AsyncIterator[bytes]:
        self.in_flight += 1
        try:
            async for frame in self._frames(
                wire, call, pieces, behaviour, fault, first_at, request
            ):
                yield frame
        finally:
            self.in_flight -= 1

    async def _frames(
        self,
        wire: Wire,
        call: Call,
        pieces: list[str],
        behaviour: Behaviour,
        fault: str | None,
        first_at: float,
        request: Request,
    ) -> AsyncIterator[bytes]:
        loop = asyncio.get_running_loop()
        head = wire.head(call)
        if head:
            yield head
        if fault == "hang":
            await until_disconnect(request)
            return
        if fault == "garbage":
            await asyncio.sleep(max(0.0, first_at - loop.time()))
            yield b'data: {"choices": [{"delta": {"content": "4\n\ndata: <html><body>502</body>\n\n'
            return
        keepalive = wire.keepalive() if behaviour.keepalive > 0 and pieces else b""
        while keepalive and first_at - loop.time() > behaviour.keepalive:
            await asyncio.sleep(behaviour.keepalive)
            yield keepalive
        count = min(behaviour.fail_after, len(pieces)) if fault in _MID_STREAM else len(pieces)
        gap = 1.0 / behaviour.tokens_per_s if behaviour.tokens_per_s else 0.0
        # A broken stream never carries Gemini's finishReason (its end-of-answer mark).
        last = len(pieces) - 1 if fault not in _MID_STREAM else -1
        batch: list[bytes] = []
        size = 0
        for i in range(count):
            wait = first_at + i * gap - loop.time()
            if wait > 0 or size > _FLUSH_BYTES:
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
        if fault in ("mid_stream_error", "mid_stream_overloaded"):
            yield wire.stream_error(call, fault == "mid_stream_overloaded")
        elif fault == "disconnect":
            raise Abort("dropped mid-stream by the scenario")
        elif fault != "truncate":
            yield wire.tail(call)

    async def _whole(
        self,
        wire: Wire,
        call: Call,
        text: str,
        pieces: list[str],
        behaviour: Behaviour,
        fault: str | None,
        first_at: float,
        request: Request,
        array: bool,
    ) -> Response:
        """A non-streaming answer: the same faults, in the shape a whole reply can take."""
        if fault == "hang":
            await until_disconnect(request)
            return Response(status_code=504)
        if fault in ("mid_stream_error", "mid_stream_overloaded"):
            return wire.error(
                "overloaded" if fault == "mid_stream_overloaded" else "api_error", call
            )
        gap = len(pieces) / behaviour.tokens_per_s if behaviour.tokens_per_s else 0.0
        wait = first_at + gap - asyncio.get_running_loop().time()
        if wait > 0 and await until_disconnect(request, wait):
            return Response(status_code=499)  # nobody is listening any more
        if fault in ("truncate", "disconnect"):
            raise Abort("dropped before the reply by the scenario")
        if fault == "garbage":
            return Response(b'{"choices": [{"message": ', 200, media_type="application/json")
        whole = wire.complete(call, text)
        return json_response(200, [whole] if array else whole, wire.headers(call))
