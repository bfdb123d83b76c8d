"""The Google Gemini (Developer API) wire protocol.

    POST {base_url}/v1beta/models/{model}:streamGenerateContent?alt=sse   x-goog-api-key: KEY
    data: {"candidates": [{"content": {"parts": [{"text": …}]}, "finishReason"?}],
           "usageMetadata": {...}, "modelVersion": …}

A tool call is a `functionCall` part, whole (`name`, `args` as an object); a call the model
could not write ends the answer with `finishReason: "MALFORMED_FUNCTION_CALL"`.
There is no `[DONE]`: the answer is complete when a candidate carries `finishReason`. A bad key is
HTTP 400 INVALID_ARGUMENT "API key not valid" (an auth error, see `status.py`).
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import httpx

from monitor.providers import register
from monitor.providers.base import Prompt, Provider, Reply, merge_body
from monitor.providers.classify import classify_error_object
from monitor.providers.stream import Reading, count, stream_call
from monitor.target import Target


class GeminiReading(Reading):
    __slots__ = ()

    def on_data(self, event: bytes | None, data: bytes) -> str:
        try:
            chunk = json.loads(data)
        except ValueError:
            return self.unparseable(data)
        if not isinstance(chunk, dict):
            return self.unparseable(data)
        if "error" in chunk:
            self.failure = classify_error_object(chunk)
            return ""
        version = chunk.get("modelVersion")
        if version:
            self.response_model = version
        if chunk.get("responseId"):
            self.extra["response_id"] = chunk["responseId"]
        usage = chunk.get("usageMetadata")
        if usage:
            if "promptTokenCount" in usage:
                self.input_tokens = count(usage["promptTokenCount"])
            said = count(usage.get("candidatesTokenCount"))
            if said is not None:
                # Thinking is billed as output, as OpenAI's completion_tokens counts reasoning.
                self.output_tokens = said + (count(usage.get("thoughtsTokenCount")) or 0)
        candidates = chunk.get("candidates")
        if not candidates:
            return ""
        candidate = candidates[0]
        finish = candidate.get("finishReason")
        if finish:
            self.extra["finish_reason"] = finish
            self.complete = True
        parts = (candidate.get("content") or {}).get("parts") or ()
        for part in parts:
            call = part.get("functionCall")
            if isinstance(call, dict):
                args = call.get("args")
                arguments = json.dumps(args) if args is not None else ""
                self.tools.whole(len(self.tools), str(call.get("name") or ""), arguments)
                self.produced = True
        if finish == "MALFORMED_FUNCTION_CALL":
            # The model wrote a call the service could not parse; `finishMessage` quotes it.
            quoted = str(candidate.get("finishMessage") or "malformed function call")
            self.tools.whole("malformed", "", quoted, malformed=True)
            self.produced = True
        return "".join(
            p["text"] for p in parts if isinstance(p.get("text"), str) and not p.get("thought")
        )

    def incomplete(self) -> str:
        return "the stream ended before finishReason"


def tool_fields(prompt: Prompt) -> dict[str, Any]:
    """`tools` (`functionDeclarations` with `parametersJsonSchema`) and `toolConfig`."""
    if not prompt.tools:
        return {}
    declarations = [
        {"name": t.name, "description": t.description, "parametersJsonSchema": t.parameters}
        for t in prompt.tools
    ]
    config: dict[str, Any] = {
        "mode": {"auto": "AUTO", "none": "NONE"}.get(prompt.tool_choice, "ANY")
    }
    if prompt.tool_choice not in ("auto", "required", "none"):
        config["allowedFunctionNames"] = [prompt.tool_choice]
    return {
        "tools": [{"functionDeclarations": declarations}],
        "toolConfig": {"functionCallingConfig": config},
    }


def _body(prompt: Prompt) -> dict[str, Any]:
    body: dict[str, Any] = {
        "contents": [{"role": "user", "parts": [{"text": prompt.text}]}],
        "generationConfig": {
            "maxOutputTokens": prompt.max_tokens,
            "temperature": prompt.temperature,
        },
        **tool_fields(prompt),
    }
    if prompt.system:
        body["systemInstruction"] = {"parts": [{"text": prompt.system}]}
    return body


@register
class GeminiProvider(Provider):
    """generateContent, streaming over SSE."""

    kind = "gemini"
    key_env_var = "GEMINI_API_KEY"

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
            headers["x-goog-api-key"] = target.api_key
        headers.update(target.headers)
        # Gemini names models `models/NAME`; config may use either form.
        model = quote(target.model.removeprefix("models/"), safe="/.-_")
        request = client.build_request(
            "POST",
            f"{target.base_url}/v1beta/models/{model}:streamGenerateContent",
            params={"alt": "sse"},
            content=json.dumps(merge_body(_body(prompt), target.body)).encode(),
            headers=headers,
        )
        chars = len(prompt.text) + len(prompt.system or "")
        return await stream_call(
            client, request, GeminiReading(), timeout=timeout, prompt_chars=chars
        )
