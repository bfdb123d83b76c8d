"""The OpenAI Chat Completions wire protocol (also OpenRouter, Groq, vLLM, Ollama's `/v1`).

    POST {base_url}/chat/completions   Authorization: Bearer KEY (optional: local servers need none)
    {"stream": true, "stream_options": {"include_usage": true}, ...}
    data: {chunk}  …  data: {"choices": [], "usage": {...}}  data: [DONE]

With tools, `delta.tool_calls` pieces (by `index`: the first names the call, the rest carry
fragments of its arguments' JSON) end with `finish_reason: "tool_calls"`.
The first chunk's `{"role": "assistant", "content": ""}` is not a token; the usage chunk has no
choices (llama.cpp's server adds its own `timings` to it, kept as `extra["server_timings"]`); a JSON `error` (or vLLM's `{"object": "error"}`) under HTTP 200 is a failure.

A prompt with `top_logprobs: K` asks `{"logprobs": true, "top_logprobs": K}`; each content chunk
then carries `choices[0].logprobs.content[]` (`{token, logprob, bytes, top_logprobs: [{token,
logprob, bytes}, …]}`), and the first output token's `top_logprobs` are kept (OpenAI, vLLM and
llama.cpp's server all send this shape; a server that ignores the request sends `logprobs: null`).
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from monitor.providers import register
from monitor.providers.base import Prompt, Provider, Reply, merge_body
from monitor.providers.classify import classify_error_object
from monitor.providers.stream import Reading, count, stream_call
from monitor.result import compact_logprobs
from monitor.target import Target


class OpenaiReading(Reading):
    __slots__ = ()

    def on_data(self, event: bytes | None, data: bytes) -> str:
        if data == b"[DONE]":
            self.complete = True
            return ""
        try:
            chunk = json.loads(data)
        except ValueError:
            return self.unparseable(data)
        if not isinstance(chunk, dict):
            return self.unparseable(data)
        if "error" in chunk or chunk.get("object") == "error":
            self.failure = classify_error_object(chunk)
            return ""
        model = chunk.get("model")
        if model:
            self.response_model = model
        fingerprint = chunk.get("system_fingerprint")
        if fingerprint:
            self.system_fingerprint = fingerprint
        usage = chunk.get("usage")
        if usage:
            self.input_tokens = count(usage.get("prompt_tokens"))
            self.output_tokens = count(usage.get("completion_tokens"))
        timings = chunk.get("timings")
        if isinstance(timings, dict):
            self.extra["server_timings"] = timings  # llama.cpp's own measurement of the call
        choices = chunk.get("choices")
        if not choices:
            return ""
        choice = choices[0]
        if self.top_logprobs is None:
            self.top_logprobs = first_top_logprobs(choice.get("logprobs"))
        if choice.get("finish_reason"):
            self.extra["finish_reason"] = choice["finish_reason"]
            self.complete = True
        delta = choice.get("delta")
        if not delta:
            return ""
        calls = delta.get("tool_calls")
        if calls:
            self._tool_deltas(calls)
        content = delta.get("content")
        return content if isinstance(content, str) else ""

    def _tool_deltas(self, calls: list[dict[str, Any]]) -> None:
        """`{"index", "id"?, "type"?, "function": {"name"?, "arguments"?}}` pieces: the first of
        a call names it, the others carry fragments of its arguments' JSON text."""
        for call in calls:
            function = call.get("function") or {}
            index = call.get("index", 0)
            name = function.get("name")
            if isinstance(name, str):
                self.tools.start(index, name)
            piece = function.get("arguments")
            if isinstance(piece, str):
                self.tools.add(index, piece)
            self.produced = True

    def incomplete(self) -> str:
        return "the stream ended before finish_reason and [DONE]"


def first_top_logprobs(logprobs: Any) -> list[list[Any]] | None:
    """The first token's `top_logprobs` in a choice's `logprobs` (`{"content": [{…}]}`) as
    `[[token, logprob], …]`, most likely first; None when there are none or they are malformed."""
    if not isinstance(logprobs, dict):
        return None
    content = logprobs.get("content")
    if not isinstance(content, list) or not content or not isinstance(content[0], dict):
        return None
    top = content[0].get("top_logprobs")
    if not isinstance(top, list):
        return None
    pairs = [[entry.get("token"), entry.get("logprob")] for entry in top if isinstance(entry, dict)]
    pairs.sort(key=lambda p: -p[1] if isinstance(p[1], int | float) else 0.0)
    return compact_logprobs(pairs)


def tool_fields(prompt: Prompt) -> dict[str, Any]:
    """`tools` and `tool_choice` as Chat Completions takes them (none without tools)."""
    if not prompt.tools:
        return {}
    choice: Any = prompt.tool_choice
    if choice not in ("auto", "required", "none"):
        choice = {"type": "function", "function": {"name": choice}}
    tools = [
        {
            "type": "function",
            "function": {"name": t.name, "description": t.description, "parameters": t.parameters},
        }
        for t in prompt.tools
    ]
    return {"tools": tools, "tool_choice": choice}


def _body(target: Target, prompt: Prompt) -> dict[str, Any]:
    messages = []
    if prompt.system:
        messages.append({"role": "system", "content": prompt.system})
    messages.append({"role": "user", "content": prompt.text})
    body: dict[str, Any] = {
        "model": target.model,
        "messages": messages,
        "temperature": prompt.temperature,
        "stream": True,
        "stream_options": {"include_usage": True},
        **tool_fields(prompt),
    }
    if prompt.top_logprobs is not None:
        body["logprobs"] = True
        body["top_logprobs"] = prompt.top_logprobs
    # OpenAI's own API has replaced max_tokens (its newer models refuse it); compatible servers
    # (vLLM, Ollama, Groq, OpenRouter) all read max_tokens.
    if "api.openai.com" in target.base_url:
        body["max_completion_tokens"] = prompt.max_tokens
    else:
        body["max_tokens"] = prompt.max_tokens
    return body


@register
class OpenaiProvider(Provider):
    """Chat Completions, streaming. A key is optional: Ollama and vLLM need none."""

    kind = "openai"
    needs_key = False
    key_env_var = "OPENAI_API_KEY"

    async def complete(
        self,
        client: httpx.AsyncClient,
        target: Target,
        prompt: Prompt,
        *,
        timeout: float,  # noqa: ASYNC109
    ) -> Reply:
        headers = {"content-type": "application/json", "accept": "text/event-stream"}
        if target.api_key:
            headers["authorization"] = f"Bearer {target.api_key}"
        headers.update(target.headers)
        request = client.build_request(
            "POST",
            f"{target.base_url}/chat/completions",
            content=json.dumps(merge_body(_body(target, prompt), target.body)).encode(),
            headers=headers,
        )
        return await stream_call(
            client, request, OpenaiReading(), timeout=timeout, prompt_chars=_chars(prompt)
        )


def _chars(prompt: Prompt) -> int:
    return len(prompt.text) + len(prompt.system or "")
