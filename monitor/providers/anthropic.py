"""The Anthropic Messages wire protocol.

    POST {base_url}/v1/messages   x-api-key: KEY, anthropic-version: 2023-06-01
    event: message_start · content_block_start · ping · content_block_delta (text_delta) …
    content_block_stop · message_delta (cumulative usage.output_tokens) · message_stop

A tool call is a `content_block_start` of type `tool_use` (its `name`) and `input_json_delta`
pieces of its input's JSON (`partial_json`), ending with `stop_reason: "tool_use"`.
`event: error` can arrive after a 200 (`overloaded_error` → overloaded).
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from monitor.providers import register
from monitor.providers.base import Prompt, Provider, Reply, merge_body
from monitor.providers.classify import classify_error_object
from monitor.providers.stream import Reading, count, stream_call
from monitor.target import Target

API_VERSION = "2023-06-01"


class AnthropicReading(Reading):
    __slots__ = ()

    def on_data(self, event: bytes | None, data: bytes) -> str:
        try:
            message = json.loads(data)
        except ValueError:
            return self.unparseable(data)
        if not isinstance(message, dict):
            return self.unparseable(data)
        kind = message.get("type")
        if kind == "content_block_delta":
            delta = message.get("delta") or {}
            if delta.get("type") == "input_json_delta":
                piece = delta.get("partial_json")
                if isinstance(piece, str):
                    self.tools.add(message.get("index", 0), piece)
                    self.produced = True
                return ""
            text = delta.get("text") if delta.get("type") == "text_delta" else None
            return text if isinstance(text, str) else ""
        if kind == "content_block_start":
            block = message.get("content_block") or {}
            if block.get("type") == "tool_use":
                self.tools.start(message.get("index", 0), str(block.get("name") or ""))
                self.produced = True
            return ""
        if kind == "message_start":
            start = message.get("message") or {}
            self.response_model = start.get("model")
            if start.get("id"):
                self.extra["message_id"] = start["id"]
            usage = start.get("usage") or {}
            self.input_tokens = count(usage.get("input_tokens"))
        elif kind == "message_delta":
            usage = message.get("usage") or {}
            if usage.get("output_tokens") is not None:
                self.output_tokens = count(usage["output_tokens"])  # cumulative, not an increment
            if usage.get("input_tokens") is not None:
                self.input_tokens = count(usage["input_tokens"])
            stop = (message.get("delta") or {}).get("stop_reason")
            if stop:
                self.extra["stop_reason"] = stop
        elif kind == "message_stop":
            self.complete = True
        elif kind == "error" or event == b"error":
            self.failure = classify_error_object(message)
        return ""

    def incomplete(self) -> str:
        return "the stream ended before message_stop"


def tool_fields(prompt: Prompt) -> dict[str, Any]:
    """`tools` (with `input_schema`) and `tool_choice` as Messages takes them."""
    if not prompt.tools:
        return {}
    choice = {"auto": {"type": "auto"}, "required": {"type": "any"}, "none": {"type": "none"}}.get(
        prompt.tool_choice, {"type": "tool", "name": prompt.tool_choice}
    )
    tools = [
        {"name": t.name, "description": t.description, "input_schema": t.parameters}
        for t in prompt.tools
    ]
    return {"tools": tools, "tool_choice": choice}


def _body(target: Target, prompt: Prompt) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": target.model,
        "max_tokens": prompt.max_tokens,
        "messages": [{"role": "user", "content": prompt.text}],
        "temperature": prompt.temperature,
        "stream": True,
        **tool_fields(prompt),
    }
    if prompt.system:
        body["system"] = prompt.system
    return body


@register
class AnthropicProvider(Provider):
    """Messages, streaming."""

    kind = "anthropic"
    key_env_var = "ANTHROPIC_API_KEY"

    async def complete(
        self,
        client: httpx.AsyncClient,
        target: Target,
        prompt: Prompt,
        *,
        timeout: float,  # noqa: ASYNC109
    ) -> Reply:
        headers = {
            "content-type": "application/json",
            "accept": "text/event-stream",
            "anthropic-version": API_VERSION,
        }
        if target.api_key:
            headers["x-api-key"] = target.api_key
        headers.update(target.headers)
        request = client.build_request(
            "POST",
            f"{target.base_url}/v1/messages",
            content=json.dumps(merge_body(_body(target, prompt), target.body)).encode(),
            headers=headers,
        )
        chars = len(prompt.text) + len(prompt.system or "")
        return await stream_call(
            client, request, AnthropicReading(), timeout=timeout, prompt_chars=chars
        )
