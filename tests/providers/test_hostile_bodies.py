"""Replies that are not answers: oversized, cut, not an event stream, decompression bombs, and
whatever hypothesis throws at the stream and body parsers.

A 200 reply that is not an event stream, or that is cut at brownout's size bound before the end
of its answer, is the provider's failure (`bad_response` or `stream_error`), never an answer
that the check then calls `wrong_answer`. Every reply here comes from a loopback server.
"""

from __future__ import annotations

import asyncio
import zlib
from collections.abc import Iterator
from functools import cache

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitor.providers import Reply
from monitor.providers.classify import classify_status
from monitor.result import Outcome
from tests.factories import ask
from tests.hostile import Response, Server, serve

KINDS = ["openai", "anthropic", "gemini"]
MB = 1024 * 1024
SSE = {"content-type": "text/event-stream"}
PROVIDER_WORDS = set(Outcome) - {Outcome.WRONG_ANSWER, Outcome.CANCELLED}
"""What a provider call may end in: the check (wrong_answer) and shutdown (cancelled) come later."""


def _repeat(piece: bytes, total: int) -> Iterator[bytes]:
    chunk = piece * max(1, 64 * 1024 // len(piece))
    for _ in range(total // len(chunk)):
        yield chunk


@cache
def _gzip_bomb() -> bytes:
    """100 MB of zeros in about 100 KB of gzip."""
    squeeze = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = b"\0" * MB
    return b"".join(squeeze.compress(block) for _ in range(100)) + squeeze.flush()


def _answer_then_keepalives(kind: str) -> Iterator[bytes]:
    """The start of a real answer, then comments (keep-alives) past every bound."""
    first = {
        "openai": b'data: {"choices": [{"index": 0, "delta": {"content": "39"}}]}\n\n',
        "anthropic": b'event: content_block_delta\ndata: {"type": "content_block_delta", '
        b'"index": 0, "delta": {"type": "text_delta", "text": "39"}}\n\n',
        "gemini": b'data: {"candidates": [{"content": {"parts": [{"text": "39"}]}}]}\n\n',
    }[kind]
    yield first
    yield from _repeat(b": still thinking\n", 50 * MB)


HOSTILE = {
    "50 MB without a newline": (
        lambda kind: Response(200, SSE, _repeat(b"x", 50 * MB)),
        Outcome.BAD_RESPONSE,
        "no answer in the first 4 MB of the reply",
    ),
    "50 MB of text/plain": (
        lambda kind: Response(200, {"content-type": "text/plain"}, _repeat(b"391\n", 50 * MB)),
        Outcome.BAD_RESPONSE,
        "expected an event stream, got text/plain",
    ),
    "a gzip bomb": (
        lambda kind: Response(200, {**SSE, "content-encoding": "gzip"}, _gzip_bomb()),
        Outcome.BAD_RESPONSE,
        "no answer in the first 4 MB of the reply",
    ),
    "an answer that never ends": (
        lambda kind: Response(200, SSE, _answer_then_keepalives(kind)),
        Outcome.STREAM_ERROR,
        "the reply passed 4 MB before the end of the answer",
    ),
}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("name", list(HOSTILE))
async def test_an_oversized_or_foreign_200_is_a_provider_failure_not_a_wrong_answer(
    client: httpx.AsyncClient, kind: str, name: str
) -> None:
    respond, outcome, error = HOSTILE[name]
    with serve(lambda request: respond(kind)) as server:
        reply = await ask(client, _base(server, kind), kind)
    assert (reply.outcome, reply.error) == (outcome, error)


def _base(server: Server, kind: str) -> str:
    return f"{server.url}/v1" if kind == "openai" else server.url


# --- Properties ----------------------------------------------------------------------------------

_PIECES = [
    b"data: ",
    b"data:",
    b"event: ",
    b"event: error\n",
    b"event: message_stop\n",
    b"\n",
    b"\r\n",
    b"\n\n",
    b": ping\n",
    b"data: [DONE]\n\n",
    b'{"choices": [{"delta": {"content": "391"}}]}',
    b'{"choices": "x", "usage": 5}',
    b'{"type": "content_block_delta", "delta": {"text": "391"}}',
    b'{"type": "message_stop"}',
    b'{"type": "error", "error": {"type": "overloaded_error", "message": "busy"}}',
    b'{"candidates": [{"content": {"parts": [{"text": "391"}]}, "finishReason": "STOP"}]}',
    b'{"error": {"code": 429, "message": "slow down"}}',
    b"{",
    b"null",
    b"\x00\xff\xfe",
]
bodies = st.lists(st.one_of(st.sampled_from(_PIECES), st.binary(max_size=40)), max_size=30).map(
    b"".join
)
content_types = st.sampled_from(
    ["text/event-stream", "text/event-stream; charset=utf-8", "", "text/plain",
     "application/json", "text/html", "application/octet-stream"]
)  # fmt: skip
statuses = st.sampled_from([200, 200, 200, 201, 204, 301, 400, 401, 404, 429, 500, 503, 529])


@pytest.fixture
def scripted() -> Iterator[tuple[Server, list[Response]]]:
    """One loopback server for every example: it answers with `replies[0]`."""
    replies = [Response()]
    with serve(lambda request: replies[0]) as server:
        yield server, replies


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(kind=st.sampled_from(KINDS), status=statuses, content_type=content_types, body=bodies,
       gzip=st.booleans())  # fmt: skip
def test_any_reply_ends_in_a_valid_outcome_and_no_exception_escapes(
    scripted: tuple[Server, list[Response]],
    kind: str,
    status: int,
    content_type: str,
    body: bytes,
    gzip: bool,
) -> None:
    server, replies = scripted
    headers = {"content-type": content_type} if content_type else {}
    if gzip:  # sometimes a real gzip of the body, sometimes the body mislabelled as gzip
        headers["content-encoding"] = "gzip"
        if len(body) % 2:
            squeeze = zlib.compressobj(6, zlib.DEFLATED, 31)
            body = squeeze.compress(body) + squeeze.flush()
    replies[0] = Response(status, headers, body)
    reply = asyncio.run(_ask_once(_base(server, kind), kind))
    assert reply.outcome in PROVIDER_WORDS
    if reply.outcome is Outcome.OK:
        assert 200 <= status < 300 and reply.text.strip()
        assert reply.latency_ms is not None
    else:
        assert reply.error


async def _ask_once(base: str, kind: str) -> Reply:
    async with httpx.AsyncClient(trust_env=False) as client:
        return await ask(client, base, kind, timeout=5.0)


@settings(max_examples=300, deadline=None)
@given(status=st.integers(100, 599), content_type=content_types, body=bodies)
def test_any_error_body_is_classified_as_a_provider_failure(
    status: int, content_type: str, body: bytes
) -> None:
    failure = classify_status(status, httpx.Headers({"content-type": content_type}), body)
    assert failure.outcome in PROVIDER_WORDS - {Outcome.OK}
    assert failure.error
