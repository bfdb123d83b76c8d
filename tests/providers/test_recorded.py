"""Streams shaped as the providers' recorded ones (openai-python's .inline-snapshot recordings,
anthropic-sdk-python's streaming fixtures, vertexai-sdk-test-data's googleai streams):

- the providers read them, fed byte by byte in awkward pieces (a replaying transport: the
  recorded bytes are the real part here, no server could send them more faithfully), and
- the simulator's own streams carry every field the recordings carry.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from monitor.providers import Prompt, Reply, provider_for
from monitor.result import Outcome
from monitor.simulator import SimulatorHandle
from tests.factories import KINDS, target_for


def _openai_chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 1723024748,
        "model": "gpt-4o-2024-08-06",
        "system_fingerprint": "fp_845eaabc1f",
        "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
    }


def _data(obj: Any, event: str | None = None, newline: str = "\n") -> str:
    head = f"event: {event}{newline}" if event else ""
    return f"{head}data: {json.dumps(obj)}{newline}{newline}"


OPENAI = (
    _data(_openai_chunk({"role": "assistant", "content": "", "refusal": None}))
    + _data(_openai_chunk({"content": "I'm"}))
    + _data(_openai_chunk({"content": " fine"}))
    + _data(_openai_chunk({}, "stop"))
    + _data(
        {
            **_openai_chunk({}),
            "choices": [],
            "usage": {"prompt_tokens": 14, "completion_tokens": 2, "total_tokens": 16},
        }
    )
    + "data: [DONE]\n\n"
)
ANTHROPIC = (
    _data(
        {
            "type": "message_start",
            "message": {
                "id": "msg_1",
                "type": "message",
                "role": "assistant",
                "content": [],
                "model": "claude-3-opus-latest",
                "stop_reason": None,
                "stop_sequence": None,
                "usage": {"input_tokens": 11, "output_tokens": 1},
            },
        },
        "message_start",
    )
    + _data(
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        "content_block_start",
    )
    + _data({"type": "ping"}, "ping")
    + _data(
        {
            "type": "content_block_delta",
            "index": 0,
            "delta": {"type": "text_delta", "text": "Hello"},
        },
        "content_block_delta",
    )
    + _data(
        {
            "type": "content_block_delta",
            "index": 0,
            "delta": {"type": "text_delta", "text": " there!"},
        },
        "content_block_delta",
    )
    + _data({"type": "content_block_stop", "index": 0}, "content_block_stop")
    + _data(
        {
            "type": "message_delta",
            "delta": {"stop_reason": "end_turn", "stop_sequence": None},
            "usage": {"output_tokens": 6},
        },
        "message_delta",
    )
    + 'event: message_stop\ndata: {"type":"message_stop"}'  # the fixture ends without a newline
)


def _gemini_chunk(text: str, final: bool = False) -> dict[str, Any]:
    candidate: dict[str, Any] = {"content": {"parts": [{"text": text}], "role": "model"}}
    usage: dict[str, Any] = {"promptTokenCount": 7, "totalTokenCount": 7}
    if final:
        candidate["finishReason"] = "STOP"
        usage = {"promptTokenCount": 7, "candidatesTokenCount": 10, "totalTokenCount": 17}
    return {"candidates": [candidate], "usageMetadata": usage, "modelVersion": "gemini-x-lite"}


GEMINI = (
    _data(_gemini_chunk("The"), newline="\r\n")
    + _data(_gemini_chunk(" capital of Wyoming"), newline="\r\n")
    + _data(_gemini_chunk(" is **Cheyenne**.\n", final=True), newline="\r\n")
)
RECORDED = {
    "openai": (OPENAI, "I'm fine", "gpt-4o-2024-08-06", 14, 2),
    "anthropic": (ANTHROPIC, "Hello there!", "claude-3-opus-latest", 11, 6),
    "gemini": (GEMINI, "The capital of Wyoming is **Cheyenne**.\n", "gemini-x-lite", 7, 10),
}


def _replaying(body: str, piece: int, status: int = 200) -> httpx.AsyncClient:
    raw = body.encode()

    class Pieces(httpx.AsyncByteStream):
        async def __aiter__(self) -> AsyncIterator[bytes]:
            for i in range(0, len(raw), piece):
                yield raw[i : i + piece]

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            status, headers={"content-type": "text/event-stream"}, stream=Pieces()
        )

    return httpx.AsyncClient(transport=httpx.MockTransport(handler))


async def _replay(kind: str, body: str, piece: int = 7) -> Reply:
    async with _replaying(body, piece) as client:
        target = target_for("http://recorded.invalid", kind)
        return await provider_for(kind).complete(client, target, Prompt("hi"), timeout=5)


@pytest.mark.parametrize("piece", [1, 7, 4096])
@pytest.mark.parametrize("kind", KINDS)
async def test_a_recorded_stream_is_read_whatever_the_pieces(kind: str, piece: int) -> None:
    body, text, model, input_tokens, output_tokens = RECORDED[kind]
    reply = await _replay(kind, body, piece)
    assert (reply.outcome, reply.text, reply.response_model) == (Outcome.OK, text, model)
    assert (reply.input_tokens, reply.output_tokens, reply.tokens_estimated) == (
        input_tokens,
        output_tokens,
        False,
    )


@pytest.mark.parametrize("kind", KINDS)
async def test_a_usage_count_that_is_not_a_number_is_estimated(kind: str) -> None:
    body = RECORDED[kind][0]
    for real in ("14", "2", "11", "6", "7", "10"):
        body = body.replace(f": {real},", ': "many",').replace(f": {real}}}", ': "many"}')
    reply = await _replay(kind, body)
    assert reply.outcome is Outcome.OK
    assert reply.tokens_estimated is True
    assert isinstance(reply.input_tokens, int) and isinstance(reply.output_tokens, int)


async def test_openrouter_comment_lines_are_skipped() -> None:
    body = ": OPENROUTER PROCESSING\n\n: OPENROUTER PROCESSING\n\n" + OPENAI
    reply = await _replay("openai", body)
    assert (reply.outcome, reply.text) == (Outcome.OK, "I'm fine")


@pytest.mark.parametrize(
    ("kind", "error", "outcome"),
    [
        (
            "openai",
            {"error": {"message": "Provider returned error", "code": 502}},
            Outcome.STREAM_ERROR,
        ),
        (
            "openai",
            {"object": "error", "message": "engine dead", "type": "InternalServerError"},
            Outcome.STREAM_ERROR,
        ),
        (
            "openai",
            {"error": {"message": "Rate limit exceeded", "type": "rate_limit_exceeded"}},
            Outcome.RATE_LIMITED,
        ),
        (
            "gemini",
            {"error": {"code": 503, "message": "overloaded", "status": "UNAVAILABLE"}},
            Outcome.OVERLOADED,
        ),
    ],
)
async def test_an_error_mid_stream_under_200_is_a_failure(
    kind: str, error: dict[str, Any], outcome: Outcome
) -> None:
    head = RECORDED[kind][0].split("\n\n")[0] + "\n\n"
    reply = await _replay(kind, head + _data(error))
    assert reply.outcome is outcome
    assert reply.http_status == 200


async def test_an_anthropic_error_event_after_200_is_overloaded() -> None:
    head = ANTHROPIC.split("event: content_block_stop")[0]
    error = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    reply = await _replay("anthropic", head + _data(error, "error"))
    assert reply.outcome is Outcome.OVERLOADED
    assert reply.text == "Hello there!"  # what arrived before the error is kept


@pytest.mark.parametrize("mid_line", [True, False])
@pytest.mark.parametrize("kind", KINDS)
async def test_a_stream_cut_before_its_end_is_a_stream_error(kind: str, mid_line: bool) -> None:
    body = RECORDED[kind][0].replace("\r\n", "\n")
    cut = body[: len(body) // 2]
    reply = await _replay(kind, cut if mid_line else cut.rsplit("\n\n", 1)[0] + "\n\n")
    assert reply.outcome is Outcome.STREAM_ERROR


@pytest.mark.parametrize(
    "garbage",
    [
        "<!DOCTYPE html><html>oops</html>",
        "[1, 2, 3]",
        '{"choices": "x", "usage": 5, "candidates": [null], "delta": 7, "type": "message_start",'
        ' "message": [], "usageMetadata": "?"}',
        '{"choices": [{"delta": "x"}], "type": "content_block_delta", "delta": [],'
        ' "candidates": [{"content": {"parts": "x"}}]}',
    ],
)
@pytest.mark.parametrize("kind", KINDS)
async def test_a_stream_of_garbage_is_a_failure_of_the_reply(kind: str, garbage: str) -> None:
    reply = await _replay(kind, f"data: {garbage}\n\n")
    # Unparseable or misshapen chunks are a bad response; chunks a protocol may ignore leave a
    # stream that never reached its end, a stream error. Never an answer, never a crash.
    assert reply.outcome in (Outcome.BAD_RESPONSE, Outcome.STREAM_ERROR), reply
    assert reply.error


def _paths(obj: Any, prefix: str = "") -> Iterator[str]:
    if isinstance(obj, dict):
        for key, value in obj.items():
            yield from _paths(value, f"{prefix}.{key}" if prefix else key)
    elif isinstance(obj, list):
        for value in obj:
            yield from _paths(value, prefix)
    else:
        yield prefix


def _data_objects(body: str) -> list[Any]:
    lines = [line.strip() for line in body.splitlines() if line.startswith("data:")]
    return [json.loads(line[5:]) for line in lines if line[5:].strip() != "[DONE]"]


@pytest.mark.parametrize("kind", KINDS)
async def test_the_simulator_streams_every_field_the_recordings_carry(
    simulator: SimulatorHandle, kind: str
) -> None:
    async with httpx.AsyncClient() as client:
        target = target_for(simulator, kind)
        request = {
            "openai": lambda: client.post(
                f"{simulator.openai_url}/chat/completions",
                json={
                    "model": target.model,
                    "messages": [{"role": "user", "content": "hi"}],
                    "stream": True,
                    "stream_options": {"include_usage": True},
                },
            ),
            "anthropic": lambda: client.post(
                f"{simulator.url}/v1/messages",
                headers={"anthropic-version": "2023-06-01"},
                json={
                    "model": target.model,
                    "max_tokens": 16,
                    "stream": True,
                    "messages": [{"role": "user", "content": "hi"}],
                },
            ),
            "gemini": lambda: client.post(
                f"{simulator.url}/v1beta/models/{target.model}:streamGenerateContent?alt=sse",
                json={"contents": [{"role": "user", "parts": [{"text": "hi"}]}]},
            ),
        }[kind]
        response = await request()
    assert response.headers["content-type"].startswith("text/event-stream")
    ours = {p for obj in _data_objects(response.text) for p in _paths(obj)}
    recorded = {p for obj in _data_objects(RECORDED[kind][0]) for p in _paths(obj)}
    assert recorded <= ours, recorded - ours
