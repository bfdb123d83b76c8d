"""The provider contract: one class per wire protocol, one async method.

A provider turns (client, target, prompt) into a `Reply`: what the wire said, measured. It never
raises for anything the provider or the network did; every failure is a `Reply` whose `outcome`
names it. Checking the answer, pricing and scrubbing happen after, in `monitor.probe`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import httpx

from monitor.canaries.tools import Tool, ToolCall
from monitor.result import Outcome
from monitor.target import Target


@dataclass(frozen=True, slots=True)
class Prompt:
    """What to ask: a user message, an optional system message, and generation bounds; for a
    tool canary, the tools offered and `tool_choice` (`auto`, `required`, `none` or a tool's
    name), which each protocol sends in its own words (docs/wire.md)."""

    text: str
    system: str | None = None
    max_tokens: int = 16
    temperature: float = 0.0
    top_logprobs: int | None = None  # ask for the top-K log-probabilities (where the wire can)
    tools: tuple[Tool, ...] = ()
    tool_choice: str = "auto"


@dataclass(slots=True)
class Reply:
    """What one streamed call produced. Times in ms, monotonic, from the request being written.

    `ttft_ms`: to the first chunk with non-empty answer text (None if none came); `latency_ms`:
    to the end of a complete answer (None unless the answer completed); `connect_ms`: connection
    setup when this call opened one. Tokens are the provider's usage, else estimated from the
    text (`tokens_estimated`). `error` is short (the provider's message, type or code, request
    id) and not yet scrubbed. `extra` may hold `request_id`, `retry_after` (seconds),
    `finish_reason` / `stop_reason`, `message_id` / `response_id` / `generation_id`, and
    `truncated` (the reply was cut at the size bound), `server_timings` (llama.cpp's own
    `timings` of the call), `chunk_gaps_s` (seconds between each event of the stream and the one
    before). `first_chunk_ms` / `last_chunk_ms`: to the first and last event of the stream,
    whatever it held; `chunks`: how many events came; `duration_ms`: to the end of the call,
    however it ended. `top_logprobs` is the first output token's top log-probabilities
    (`[[token, logprob], …]`), when the prompt asked and the wire sent them. `tool_calls` are the calls the model
    made, assembled from the stream, in order. `retry_reason` is set when the request
    was sent a second time because its first try hit a kept-alive connection the server had
    closed (before any byte of a reply): what that try raised. The times are the second try's.
    """

    outcome: Outcome
    http_status: int | None = None
    text: str = ""
    connect_ms: float | None = None
    ttft_ms: float | None = None
    latency_ms: float | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    tokens_estimated: bool = False
    response_model: str | None = None
    system_fingerprint: str | None = None
    error: str | None = None
    retry_reason: str | None = None
    top_logprobs: list[list[Any]] | None = None
    first_chunk_ms: float | None = None
    last_chunk_ms: float | None = None
    chunks: int = 0
    duration_ms: float | None = None
    tool_calls: list[ToolCall] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)


class Provider(ABC):
    """One wire protocol. Subclasses set `kind` and implement `complete`.

    Capability flags follow simonw/llm: `needs_key` says whether a missing `api_key` is an error
    (OpenAI-compatible local servers such as Ollama need none).
    """

    kind: ClassVar[str]
    needs_key: ClassVar[bool] = True
    key_env_var: ClassVar[str | None] = None

    @abstractmethod
    async def complete(
        self,
        client: httpx.AsyncClient,
        target: Target,
        prompt: Prompt,
        *,
        timeout: float,  # noqa: ASYNC109
    ) -> Reply:
        """Send `prompt` to `target` over this protocol, streaming, and measure the reply.

        `timeout` (seconds) bounds the whole call, headers to last byte. Never raises for
        network or provider failures: they come back as a Reply with the matching outcome.
        """


def merge_body(base: dict[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    """`base` with `extra` merged in: nested mappings merge key by key, anything else replaces."""
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = merge_body(out[key], value)
        else:
            out[key] = value
    return out
