"""The simulator's paths, from its wires: each wire's chat paths (POST) and list-models paths
(GET), `/healthz`, and for any other path the JSON 404 of the protocol the request speaks."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from monitor.simulator.scenario import Scenario
from monitor.simulator.wire import Call, Endpoint, Wire, json_response

Answer = Callable[[Wire, Request, Endpoint], Awaitable[Response]]


def routes(wires: Sequence[Wire], answer: Answer, scenario: Callable[[], Scenario]) -> list[Route]:
    """Every path the wires serve; chat requests go to `answer`, list-models requests are
    answered from the current `scenario()`'s models."""
    out = [
        Route(path, _chat(wire, answer), methods=["POST"])
        for wire in wires
        for path in wire.chat_paths
    ]
    model_paths = list(dict.fromkeys(p for wire in wires for p in wire.models_paths))
    for path in model_paths:
        speakers = [w for w in wires if path in w.models_paths]
        out.append(Route(path, _list_models(speakers, scenario), methods=["GET"]))
    out.append(Route("/healthz", _healthz, methods=["GET"]))
    out.append(Route("/{path:path}", _unknown(wires), methods=_METHODS))
    return out


_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]


def _unknown(wires: Sequence[Wire]) -> Callable[[Request], Awaitable[Response]]:
    """Any other path: the 404 of the protocol the request speaks (Gemini's by its path or
    key, Anthropic's by its headers, else OpenAI's), never a plain-text page."""
    by_name = {w.name: w for w in wires}
    order = [by_name[n] for n in ("gemini", "anthropic") if n in by_name]
    fallback = by_name.get("openai", wires[-1])

    async def unknown(request: Request) -> Response:
        wire = next((w for w in order if w.speaks(request)), fallback)
        return wire.unknown_path(request)

    return unknown


def _chat(wire: Wire, answer: Answer) -> Callable[[Request], Awaitable[Response]]:
    async def chat(request: Request) -> Response:
        endpoint = wire.endpoint(request)
        if isinstance(endpoint, Response):
            return endpoint
        return await answer(wire, request, endpoint)

    return chat


def _list_models(
    speakers: Sequence[Wire], scenario: Callable[[], Scenario]
) -> Callable[[Request], Awaitable[Response]]:
    async def list_models(request: Request) -> Response:
        """The models the scenario names (patterns are not listed), as the protocol of the
        request lists them."""
        wire = next((w for w in speakers if w.speaks(request)), speakers[-1])
        call = Call("", "", None, "", False, key=wire.key(request))
        current = scenario()
        if not current.key_ok(call.key):
            return wire.error("auth", call)
        names = [m for m in current.models if not any(c in m for c in "*?[")]
        return json_response(200, wire.model_list(names), wire.headers(call))

    return list_models


async def _healthz(request: Request) -> Response:
    return PlainTextResponse("ok")
