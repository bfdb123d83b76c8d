"""What a simulated call needs to know, and the frame builders each protocol implements.

The app decides *what* happens (`plan.py`: answer, fault, delay; `pacing.py`: when each frame
goes); a `Wire` says *where* a protocol is served (its paths) and *how* it looks on the wire:
event-stream frames, non-streaming JSON, and real error replies. The wires the simulator speaks
are listed in `wires.py`.
"""

from __future__ import annotations

import json
import secrets
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar

from starlette.requests import Request
from starlette.responses import Response

from monitor.simulator.tool_calls import ToolPlan

HTML_500 = (
    b"<html>\r\n<head><title>500 Internal Server Error</title></head>\r\n<body>\r\n"
    b"<center><h1>500 Internal Server Error</h1></center>\r\n<hr><center>cloudflare</center>\r\n"
    b"</body>\r\n</html>\r\n"
)


@dataclass(slots=True)
class Call:
    """One request being answered."""

    model: str  # the model asked for
    answered_by: str  # what the reply claims (`response_model`)
    fingerprint: str | None
    prompt: str
    stream: bool
    include_usage: bool = False  # usage reported (the request asked, and the scenario allows)
    input_tokens: int = 1
    output_tokens: int = 0
    retry_after: float = 2.0
    key: str | None = None
    stop: str = "stop"  # "length" when the answer was cut at the request's max tokens
    template: tuple[bytes, bytes] | None = None  # a token frame around its text, rendered once
    top_logprobs: int | None = None  # the request asked for logprobs with this many alternatives
    logprobs: list[dict[str, Any]] | None = None  # one `logprobs.content` entry per token
    sent: int = 0  # tokens rendered so far (the index of the next one's logprobs)
    tool: ToolPlan | None = None  # the answer is this tool call; its tokens are its arguments
    request_id: str = field(default_factory=lambda: "req_" + secrets.token_hex(12))
    created: int = field(default_factory=lambda: int(time.time()))


_PLACEHOLDER = "\x00text\x00"
_MARKER = json.dumps(_PLACEHOLDER).encode()


def dumps(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


def sse(obj: Any, event: str | None = None) -> bytes:
    head = f"event: {event}\n".encode() if event else b""
    return head + b"data: " + dumps(obj) + b"\n\n"


def json_response(status: int, obj: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(dumps(obj), status, headers=headers, media_type="application/json")


def html_500() -> Response:
    return Response(HTML_500, 500, media_type="text/html")


@dataclass(frozen=True, slots=True)
class Endpoint:
    """What a chat path asks for beyond its body: the model when the path names it, streaming
    when the path decides it (None: the body's `stream`), and Gemini's whole JSON array."""

    model: str | None = None
    stream: bool | None = None
    array: bool = False


class Wire(ABC):
    """One protocol's paths and shapes. Streams are `head`, one `token` per piece, then `tail`."""

    name: str
    request_id_header: str | None = "x-request-id"
    chat_paths: ClassVar[tuple[str, ...]] = ()
    """Path patterns (Starlette's) answered with a chat reply, for POST."""
    models_paths: ClassVar[tuple[str, ...]] = ()
    """Paths of this protocol's list-models reply, for GET."""

    def endpoint(self, request: Request) -> Endpoint | Response:
        """What a request on one of `chat_paths` asks for, or the reply to a path not served."""
        return Endpoint()

    def speaks(self, request: Request) -> bool:
        """Whether a request on a path several protocols share (`GET /v1/models`) is in this
        protocol; the first wire in `wires.WIRES` that says so answers it."""
        return True

    @abstractmethod
    def unknown_path(self, request: Request) -> Response:
        """This protocol's own 404 for a path the simulator does not serve (JSON, as the real
        service sends it: an SDK reads it as its not-found error, not as a crash)."""

    @abstractmethod
    def key(self, request: Request) -> str | None:
        """The API key the request carries, as this protocol sends it."""

    @abstractmethod
    def prompt(self, body: dict[str, Any]) -> str:
        """The last user message's text."""

    def wants_usage(self, body: dict[str, Any]) -> bool:
        return True

    def top_logprobs(self, body: dict[str, Any]) -> int | None:
        """How many alternatives per token the request asked log-probabilities for (None: it
        asked for none, or the protocol has none)."""
        return None

    whole_tool_calls = False
    """A tool call is sent in one frame (Gemini), not in pieces of its arguments."""

    def tools(self, body: dict[str, Any]) -> tuple[list[tuple[str, dict[str, Any]]], str]:
        """The tools the request offers (name, parameters schema) and its tool choice in
        brownout's words (`auto`, `required`, `none` or a tool's name)."""
        return [], "auto"

    def max_tokens(self, body: dict[str, Any]) -> int | None:
        """The request's bound on output tokens, if it set one."""
        value = body.get("max_tokens")
        return value if isinstance(value, int) else None

    def precheck(self, request: Request, body: dict[str, Any], call: Call) -> Response | None:
        """A reply to a request this protocol would refuse before anything else (or None)."""
        return None

    @abstractmethod
    def error(self, kind: str, call: Call) -> Response:
        """The real HTTP error reply for an error kind (see scenario.ERROR_KINDS), or `not_found`."""

    @abstractmethod
    def head(self, call: Call) -> bytes: ...

    last_token_differs = False
    """The last token's frame carries more than its text (Gemini's finishReason and usage)."""

    @abstractmethod
    def render_token(self, call: Call, text: str, last: bool) -> bytes:
        """One token's frame, rendered in full."""

    def token(self, call: Call, text: str, last: bool) -> bytes:
        """One token's frame: the call's rendered template around the JSON-encoded text (the
        simulator's hot path: a stream of N tokens renders its JSON once, not N times)."""
        if last and self.last_token_differs:
            return self.render_token(call, text, True)
        if call.template is None:
            head, _, tail = self.render_token(call, _PLACEHOLDER, False).partition(_MARKER)
            call.template = (head, tail)
        return call.template[0] + json.dumps(text).encode() + call.template[1]

    @abstractmethod
    def tail(self, call: Call) -> bytes: ...

    def keepalive(self) -> bytes:
        """What the server sends while the model thinks (b"": nothing)."""
        return b""

    @abstractmethod
    def stream_error(self, call: Call, overloaded: bool) -> bytes:
        """An error event inside a 200 stream."""

    @abstractmethod
    def complete(self, call: Call, text: str) -> dict[str, Any]:
        """The non-streaming success body."""

    @abstractmethod
    def model_list(self, names: list[str]) -> dict[str, Any]:
        """The body of this protocol's list-models reply."""

    def headers(self, call: Call) -> dict[str, str]:
        return {self.request_id_header: call.request_id} if self.request_id_header else {}
