"""The streaming call every wire protocol shares: send, time, read SSE, bound, classify.

A protocol supplies the request and a `Reading` (how to understand its events); `stream_call`
does the rest and returns a `Reply`. The per-chunk path is kept small on purpose: this loop is
what the throughput benchmark measures against a bare httpx streaming loop.
"""

from __future__ import annotations

import asyncio
import math
from time import perf_counter
from typing import Any

import httpx

from monitor.canaries.tools import ARGUMENTS_MAX_CHARS, ToolCall
from monitor.providers.base import Reply
from monitor.providers.body import STEP_BYTES, Decoder, negotiate
from monitor.providers.classify import Failure, classify_exception, classify_status
from monitor.providers.timing import Timing
from monitor.result import Outcome

TEXT_MAX_CHARS = 64 * 1024
"""The answer is cut here and reading stops: a canary answer is a few tokens."""
STREAM_MAX_BYTES = 4 * 1024 * 1024
"""Wire bytes read at most (SSE framing costs ~10x the text for one-token chunks)."""
ERROR_BODY_MAX_BYTES = 16 * 1024
SLICE_BYTES = 16 * 1024
"""Decoded bytes parsed between two turns of the event loop (~1 ms of work for tiny events)."""
CHARS_PER_TOKEN = 4.0
"""Token estimate when the provider sends no usage."""


def count(value: object) -> int | None:
    """A token count from a usage object: a non-negative int, else None (not the protocol)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        return None
    return int(value)


_MISSHAPEN = (AttributeError, TypeError, KeyError, IndexError, ValueError)
"""What reading JSON of an unexpected shape raises (`"choices": "x"`, `"usage": 5`)."""

_WIRE_FAILURES = (httpx.HTTPError, httpx.InvalidURL, OSError, TimeoutError)
"""What the network, the provider or the deadline can raise. Anything else is brownout's own
bug and propagates (monitor.probe records it, with its stack logged once)."""


class ToolCalls:
    """Tool calls being assembled from a stream, by the protocol's own index: a name, then
    pieces of the arguments' JSON text. Each call's arguments are kept up to
    `ARGUMENTS_MAX_CHARS`."""

    __slots__ = ("_calls", "chars")

    def __init__(self) -> None:
        self._calls: dict[object, list[str | bool]] = {}
        self.chars = 0

    def start(self, index: object, name: str) -> None:
        call = self._calls.setdefault(index, ["", "", False])
        if name:
            call[0] = name

    def add(self, index: object, piece: str) -> None:
        call = self._calls.setdefault(index, ["", "", False])
        arguments = str(call[1])
        if len(arguments) + len(piece) > ARGUMENTS_MAX_CHARS:
            piece = piece[: max(0, ARGUMENTS_MAX_CHARS - len(arguments))]
        call[1] = arguments + piece
        self.chars += len(piece)

    def whole(self, index: object, name: str, arguments: str, *, malformed: bool = False) -> None:
        """A call that arrived in one piece (Gemini sends each call whole)."""
        self._calls[index] = [name, arguments[:ARGUMENTS_MAX_CHARS], malformed]
        self.chars += len(arguments)

    def __len__(self) -> int:
        return len(self._calls)

    def calls(self) -> list[ToolCall]:
        return [ToolCall(str(n), str(a), bool(m)) for n, a, m in self._calls.values()]


class Reading:
    """What a protocol has understood of its stream so far. Subclasses implement `on_data`.

    `on_data` gets one `data:` payload (and the current `event:` name, if any) and returns the
    answer text it carries ("" for none). It records usage and model on `self`, sets `complete`
    on the protocol's end of answer, and sets `failure` (which stops reading) for an error event
    or a payload it cannot parse. Pieces of tool calls go to `tools` (and set `produced`).
    """

    __slots__ = (
        "complete",
        "extra",
        "failure",
        "input_tokens",
        "output_tokens",
        "produced",
        "response_model",
        "system_fingerprint",
        "tools",
        "top_logprobs",
    )

    def __init__(self) -> None:
        self.complete = False
        self.produced = False  # a piece of a tool call came: output, as text is (for TTFT)
        self.tools = ToolCalls()
        self.failure: Failure | None = None
        self.input_tokens: int | None = None
        self.output_tokens: int | None = None
        self.response_model: str | None = None
        self.system_fingerprint: str | None = None
        self.top_logprobs: list[list[Any]] | None = None  # the first output token's, if sent
        self.extra: dict[str, Any] = {}

    def on_data(self, event: bytes | None, data: bytes) -> str:
        raise NotImplementedError

    def unparseable(self, data: bytes) -> str:
        shown = data[:80].decode("utf-8", "replace")
        self.failure = Failure(Outcome.BAD_RESPONSE, f"unparseable stream chunk: {shown!r}")
        return ""

    def incomplete(self) -> str:
        """Why a stream that ended without the protocol's end of answer is broken."""
        return "the stream ended before the end of the answer"


async def stream_call(
    client: httpx.AsyncClient,
    request: httpx.Request,
    reading: Reading,
    *,
    timeout: float,  # noqa: ASYNC109 (the overall deadline is asyncio.timeout, inside)
    prompt_chars: int,
) -> Reply:
    """Send `request`, read its event stream with `reading`, and measure it, within `timeout`.

    Never raises for what the network or the provider did; cancellation and brownout's own bugs
    propagate.
    """
    timing = Timing()
    request.extensions["trace"] = timing.trace
    request.extensions["timeout"] = httpx.Timeout(timeout).as_dict()
    # Only what `monitor.providers.body` can undo within the size bound, and never more than
    # the user's own `accept-encoding` header (in `headers:`) allows.
    request.headers["accept-encoding"] = negotiate(request.headers.get("accept-encoding"))
    reply = Reply(outcome=Outcome.OK)
    parts: list[str] = []
    state = _Clock()
    responded = False
    try:
        async with asyncio.timeout(timeout):
            try:
                response = await client.send(request, stream=True)
            except _STALE_CONNECTION as exc:
                if not timing.reused or not _before_any_byte(exc):
                    raise
                # A kept-alive connection the server had already closed: it never saw this
                # request. Send it once more; the pool has dropped the dead connection.
                reply.retry_reason = _stale_reason(exc)
                timing = Timing()
                request.extensions["trace"] = timing.trace
                response = await client.send(request, stream=True)
            responded = True
            try:
                reply.http_status = response.status_code
                reply.extra.update(_ids(response.headers))
                content_type = response.headers.get("content-type", "")
                if not 200 <= response.status_code < 300 or not _event_stream(content_type):
                    body = await _read_bounded(response, ERROR_BODY_MAX_BYTES)
                    _fail(reply, classify_status(response.status_code, response.headers, body))
                else:
                    await _read_events(response, reading, parts, state)
            finally:
                await response.aclose()
    except _WIRE_FAILURES as exc:  # every failure of the wire is data: status.classify_exception
        _fail(reply, classify_exception(exc, responded=responded, timeout=timeout))
    _finish(reply, reading, parts, state, timing, prompt_chars)
    return reply


def _event_stream(content_type: str) -> bool:
    """Whether a success reply is read as an event stream: it says `text/event-stream`, or says
    nothing (some small servers send no content type). Anything else (`text/plain`, JSON, a
    page, octets) is not a stream, and `classify_status` says what it is instead."""
    return not content_type or "event-stream" in content_type


_STALE_CONNECTION = (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError)
"""How a request fails on a kept-alive connection that the server closed while it sat idle."""


def _before_any_byte(exc: httpx.TransportError) -> bool:
    """The failure came before the server sent anything back (a protocol error after a partial
    status line is the server's reply, broken, and is not retried)."""
    if isinstance(exc, httpx.RemoteProtocolError):
        return "without sending a response" in str(exc)
    return True


def _stale_reason(exc: httpx.TransportError) -> str:
    said = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return f"{said} (on a reused connection; sent again on a fresh one)"


class _Clock:
    """The moments of one stream: the first answer text (`first`), the end of the answer
    (`end`), and every event (`first_chunk`, `last_chunk`, and the `gaps` between them)."""

    __slots__ = ("chars", "cut", "end", "first", "first_chunk", "gaps", "last_chunk")

    def __init__(self) -> None:
        self.first: float | None = None
        self.end: float | None = None
        self.first_chunk: float | None = None
        self.last_chunk: float | None = None
        self.gaps: list[float] = []
        self.chars = 0
        self.cut = False

    def chunk(self, data: bytes, now: float) -> None:
        """One event of the stream arrived at `now` (OpenAI's `[DONE]` marker is not one)."""
        if data == b"[DONE]":
            return
        if self.last_chunk is None:
            self.first_chunk = now
        else:
            self.gaps.append(now - self.last_chunk)
        self.last_chunk = now


class _Events:
    """One stream's reader: wire bytes → decoded body → lines → `data:` payloads → the reading.

    `take` returns True to stop reading (the reading failed, or a bound was reached), False for
    more, None when `budget` decoded bytes have been handled and more is waiting (the caller
    lets the loop turn, then calls again)."""

    __slots__ = ("decoded", "decoder", "event", "held", "parts", "raw", "reading", "state")

    def __init__(self, reading: Reading, parts: list[str], state: _Clock, decoder: Decoder) -> None:
        self.reading = reading
        self.parts = parts
        self.state = state
        self.decoder = decoder
        self.held: list[bytes] = []  # the start of a line not ended yet, in pieces
        self.event: bytes | None = None
        self.raw = 0
        self.decoded = 0

    def take(self, raw: bytes, now: float, budget: int | None) -> bool | None:
        if raw:
            self.raw += len(raw)
            self.decoder.feed(raw)
        state = self.state
        while True:
            limit = STEP_BYTES if budget is None else max(1024, min(STEP_BYTES, budget - self.decoded))  # fmt: skip
            piece = self.decoder.read(limit)
            if not piece:
                if self.raw > STREAM_MAX_BYTES:  # wire bytes that decode to (almost) nothing
                    state.cut = True
                    return True
                return False
            self.decoded += len(piece)
            if self._lines(piece, now):
                return True
            if self.decoded > STREAM_MAX_BYTES:
                state.cut = True
                if state.end is None:
                    state.end = now
                return True
            if budget is not None and self.decoded >= budget:
                return None

    def _lines(self, chunk: bytes, now: float) -> bool:
        """The hot loop: split bytes into lines, hand `data:` payloads to the reading."""
        if b"\n" not in chunk:
            self.held.append(chunk)  # joined once, when the line ends (a bomb has no newline)
            return False
        if self.held:
            self.held.append(chunk)
            chunk = b"".join(self.held)
        lines = chunk.split(b"\n")
        rest = lines.pop()
        self.held = [rest] if rest else []
        reading, state, event = self.reading, self.state, self.event
        try:
            for line in lines:
                if line[-1:] == b"\r":
                    line = line[:-1]
                if not line:
                    event = None  # a blank line ends an SSE event
                elif line.startswith(b"data:"):
                    data = line[5:].strip()
                    state.chunk(data, now)
                    try:
                        text = reading.on_data(event, data)
                    except _MISSHAPEN:
                        text = reading.unparseable(data)
                    if text:
                        if state.first is None:
                            state.first = now
                        self.parts.append(text)
                        state.chars += len(text)
                    elif reading.produced:  # a piece of a tool call: the first output, if first
                        reading.produced = False
                        if state.first is None:
                            state.first = now
                    if reading.failure is not None:
                        return True
                    if reading.complete and state.end is None:
                        state.end = now
                    if state.chars + reading.tools.chars > TEXT_MAX_CHARS:
                        state.cut = True
                        state.end = now
                        return True
                elif line.startswith(b"event:"):
                    event = line[6:].strip()
                # ":" comments (OpenRouter's keep-alives), "id:" and "retry:" are skipped.
        finally:
            self.event = event
        return False

    def last(self, now: float) -> None:
        """The stream ended: a last line without its newline (some servers end this way)."""
        reading, state, buffer = self.reading, self.state, b"".join(self.held)
        if buffer.startswith(b"data:") and reading.failure is None and not reading.complete:
            data = buffer.rstrip()[5:].strip()
            state.chunk(data, now)
            text = _feed(reading, self.event, data)
            failure = reading.failure
            if failure is not None and failure.outcome is Outcome.BAD_RESPONSE:
                reading.failure = None  # a last line cut short is a broken stream, not garbage
            if text:
                state.first = state.first or now
                self.parts.append(text)
            if reading.complete:
                state.end = now


async def _read_events(
    response: httpx.Response, reading: Reading, parts: list[str], state: _Clock
) -> None:
    """Read the raw body, decoding and parsing it `SLICE_BYTES` at a time, and let the other
    probes run between slices: a large or hostile body costs the loop one short slice at a time,
    never its whole length at once (each chunk is stamped on arrival)."""
    events = _Events(reading, parts, state, Decoder(response.headers.get("content-encoding", "")))
    async for raw in response.aiter_raw():
        now = perf_counter()
        stop = events.take(raw, now, events.decoded + SLICE_BYTES)
        while stop is None:  # more of this chunk to decode and parse: other probes first
            await asyncio.sleep(0)
            stop = events.take(b"", now, events.decoded + SLICE_BYTES)
        if stop:
            return
    if not events.take(b"", perf_counter(), None):  # what the decoder held back (< its window)
        events.last(perf_counter())


def _feed(reading: Reading, event: bytes | None, data: bytes) -> str:
    try:
        return reading.on_data(event, data)
    except _MISSHAPEN:
        return reading.unparseable(data)


async def _read_bounded(response: httpx.Response, limit: int) -> bytes:
    """The first `limit` bytes of the decoded body (an error reply's), no more decoded."""
    decoder = Decoder(response.headers.get("content-encoding", ""))
    body = bytearray()
    async for raw in response.aiter_raw():
        decoder.feed(raw)
        while len(body) < limit and (piece := decoder.read(limit - len(body))):
            body += piece
        if len(body) >= limit:
            break
    return bytes(body)


def _ids(headers: httpx.Headers) -> dict[str, Any]:
    out: dict[str, Any] = {}
    request_id = headers.get("x-request-id") or headers.get("request-id")
    if request_id:
        out["request_id"] = request_id
    generation = headers.get("x-generation-id")
    if generation:
        out["generation_id"] = generation
    return out


def _fail(reply: Reply, failure: Failure) -> None:
    reply.outcome = failure.outcome
    reply.error = failure.error
    reply.extra.update(failure.extra)


def _cut_failure(text: str, state: _Clock) -> Failure:
    """Why a reply cut at a size bound before the end of its answer is the provider's failure.

    With no answer text yet, what came was not this protocol's stream (a body without newlines,
    megabytes of something else, a decompression bomb): `bad_response`. With answer text, the
    stream broke its own bound mid-answer (a model that ignores `max_tokens` and runs on):
    `stream_error`. Either way the check never sees it, so it is not a `wrong_answer`."""
    if not text:
        return Failure(
            Outcome.BAD_RESPONSE,
            f"no answer in the first {STREAM_MAX_BYTES // (1024 * 1024)} MB of the reply",
        )
    if state.chars > TEXT_MAX_CHARS:
        bound = f"{TEXT_MAX_CHARS // 1024}K characters of answer"
    else:
        bound = f"{STREAM_MAX_BYTES // (1024 * 1024)} MB"
    return Failure(Outcome.STREAM_ERROR, f"the reply passed {bound} before the end of the answer")


def _finish(
    reply: Reply,
    reading: Reading,
    parts: list[str],
    state: _Clock,
    timing: Timing,
    prompt_chars: int,
) -> None:
    """Fill the reply from the reading and the clock, and decide the outcome of a 200 stream."""
    text = "".join(parts)
    if len(text) > TEXT_MAX_CHARS:
        text = text[:TEXT_MAX_CHARS]
    reply.text = text
    reply.connect_ms = timing.connect_ms
    reply.ttft_ms = timing.ms_since_sent(state.first)
    reply.first_chunk_ms = timing.ms_since_sent(state.first_chunk)
    reply.last_chunk_ms = timing.ms_since_sent(state.last_chunk)
    reply.chunks = 0 if state.first_chunk is None else len(state.gaps) + 1
    if state.gaps:
        reply.extra["chunk_gaps_s"] = tuple(state.gaps)
    reply.response_model = reading.response_model
    reply.system_fingerprint = reading.system_fingerprint
    reply.extra.update(reading.extra)
    reply.input_tokens = reading.input_tokens
    reply.output_tokens = reading.output_tokens
    reply.top_logprobs = reading.top_logprobs
    reply.tool_calls = reading.tools.calls()
    if reply.outcome is Outcome.OK:
        if reading.failure is not None:
            _fail(reply, reading.failure)
        elif state.cut and not reading.complete:
            _fail(reply, _cut_failure(text, state))
        elif state.cut:  # the answer was complete; only what followed it was not read
            reply.extra["truncated"] = True
        elif not reading.complete:
            _fail(reply, Failure(Outcome.STREAM_ERROR, reading.incomplete()))
        elif not text.strip() and not reply.tool_calls:
            _fail(reply, Failure(Outcome.BAD_RESPONSE, "the reply was empty"))
    if reply.outcome is Outcome.OK:
        end = state.end if state.end is not None else perf_counter()
        reply.latency_ms = timing.ms_since_sent(end)
        if reply.output_tokens is None:
            said = len(text) + reading.tools.chars
            reply.output_tokens = max(1, math.ceil(said / CHARS_PER_TOKEN))
            reply.tokens_estimated = True
        if reply.input_tokens is None:
            reply.input_tokens = max(1, math.ceil(prompt_chars / CHARS_PER_TOKEN))
            reply.tokens_estimated = True
    reply.duration_ms = timing.ms_since_sent(perf_counter())
