"""OpenAI Chat Completions as api.openai.com speaks it (shapes from openai-python's recordings)."""

from __future__ import annotations

import math
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from monitor.simulator.wire import Call, Wire, dumps, html_500, json_response

_MESSAGES: dict[str, tuple[int, str, str, str | None]] = {
    # kind: (status, message, type, code)
    "insufficient_quota": (
        429,
        "You exceeded your current quota, please check your plan and billing details. For more "
        "information on this error, read the docs: "
        "https://platform.openai.com/docs/guides/error-codes/api-errors.",
        "insufficient_quota",
        "insufficient_quota",
    ),
    "overloaded": (
        503,
        "The server is overloaded or not ready yet.",
        "service_unavailable_error",
        "server_is_overloaded",
    ),
    "api_error": (
        500,
        "The server had an error while processing your request. Sorry about that!",
        "server_error",
        None,
    ),
    "forbidden": (
        403,
        "Country, region, or territory not supported",
        "request_forbidden",
        "unsupported_country_region_territory",
    ),
    "bad_request": (
        400,
        "Invalid value for 'temperature': must be a number between 0 and 2.",
        "invalid_request_error",
        "invalid_value",
    ),
}


def _echo(key: str | None) -> str:
    """The key partly masked, as OpenAI quotes it in its 401 (good for testing scrubbing)."""
    if not key:
        return "''"
    return key[:8] + "*" * max(4, len(key) - 12) + key[-4:] if len(key) > 12 else key[:3] + "****"


def _error(message: str, type_: str, code: str | None, param: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


def _finish(call: Call) -> str:
    return "tool_calls" if call.stop == "tool" else call.stop


class OpenaiWire(Wire):
    name = "openai"
    chat_paths = ("/v1/chat/completions",)
    models_paths = ("/v1/models",)

    def unknown_path(self, request: Request) -> Response:
        message = f"Invalid URL ({request.method} {request.url.path})"
        return json_response(404, _error(message, "invalid_request_error", None))

    def key(self, request: Request) -> str | None:
        auth = request.headers.get("authorization", "")
        return auth[7:] if auth[:7].lower() == "bearer " else None

    def prompt(self, body: dict[str, Any]) -> str:
        for message in reversed(body.get("messages") or []):
            if isinstance(message, dict) and message.get("role") == "user":
                content = message.get("content")
                if isinstance(content, list):
                    return " ".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
                return str(content or "")
        return ""

    def wants_usage(self, body: dict[str, Any]) -> bool:
        options = body.get("stream_options")
        return bool(isinstance(options, dict) and options.get("include_usage"))

    def top_logprobs(self, body: dict[str, Any]) -> int | None:
        if body.get("logprobs") is not True:
            return None
        k = body.get("top_logprobs")
        return max(0, min(20, k)) if isinstance(k, int) and not isinstance(k, bool) else 0

    def max_tokens(self, body: dict[str, Any]) -> int | None:
        value = body.get("max_completion_tokens", body.get("max_tokens"))
        return value if isinstance(value, int) else None

    def tools(self, body: dict[str, Any]) -> tuple[list[tuple[str, dict[str, Any]]], str]:
        offered = []
        for tool in body.get("tools") or []:
            function = tool.get("function") if isinstance(tool, dict) else None
            if isinstance(function, dict) and isinstance(function.get("name"), str):
                offered.append((function["name"], function.get("parameters") or {}))
        choice = body.get("tool_choice", "auto")
        if isinstance(choice, dict):
            choice = (choice.get("function") or {}).get("name", "required")
        return offered, str(choice)

    def error(self, kind: str, call: Call) -> Response:
        headers = self.headers(call)
        if kind == "server_error":
            return html_500()
        if kind == "rate_limited":
            wait = call.retry_after
            headers.update(
                {
                    "retry-after": str(math.ceil(wait)),
                    "retry-after-ms": str(int(wait * 1000)),
                    "x-ratelimit-limit-requests": "500",
                    "x-ratelimit-remaining-requests": "0",
                    "x-ratelimit-reset-requests": f"{wait:g}s",
                    "x-should-retry": "true",
                }
            )
            message = (
                f"Rate limit reached for {call.model} in organization org-brownoutsim on "
                f"requests per min (RPM): Limit 500, Used 500, Requested 1. Please try again in "
                f"{wait:g}s. Visit https://platform.openai.com/account/rate-limits to learn more."
            )
            return json_response(429, _error(message, "requests", "rate_limit_exceeded"), headers)
        if kind == "auth":
            message = (
                f"Incorrect API key provided: {_echo(call.key)}. You can find your API key at "
                "https://platform.openai.com/account/api-keys."
            )
            return json_response(
                401, _error(message, "invalid_request_error", "invalid_api_key"), headers
            )
        if kind == "not_found":
            message = f"The model `{call.model}` does not exist or you do not have access to it."
            return json_response(
                404, _error(message, "invalid_request_error", "model_not_found"), headers
            )
        status, message, type_, code = _MESSAGES[kind]
        return json_response(status, _error(message, type_, code), headers)

    def _chunk(self, call: Call, choices: list[Any], usage: Any = None) -> bytes:
        chunk: dict[str, Any] = {
            "id": "chatcmpl-" + call.request_id[4:],
            "object": "chat.completion.chunk",
            "created": call.created,
            "model": call.answered_by,
            "service_tier": "default",
            "system_fingerprint": call.fingerprint,
            "choices": choices,
        }
        if call.include_usage:
            chunk["usage"] = usage
        return b"data: " + dumps(chunk) + b"\n\n"

    def head(self, call: Call) -> bytes:
        delta: dict[str, Any] = {"role": "assistant", "content": "", "refusal": None}
        if call.tool is not None:  # as recorded: no content, the call's id and name first
            delta["content"] = None
            delta["tool_calls"] = [
                {
                    "index": 0,
                    "id": "call_" + call.tool.id,
                    "type": "function",
                    "function": {"name": call.tool.name, "arguments": ""},
                }
            ]
        return self._chunk(
            call, [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": None}]
        )

    def render_token(self, call: Call, text: str, last: bool) -> bytes:
        logprobs = None
        if call.logprobs is not None and call.sent < len(call.logprobs):
            logprobs = {"content": [call.logprobs[call.sent]], "refusal": None}
        call.sent += 1
        delta: dict[str, Any] = {"content": text}
        if call.tool is not None:
            delta = {"tool_calls": [{"index": 0, "function": {"arguments": text}}]}
        return self._chunk(
            call,
            [{"index": 0, "delta": delta, "logprobs": logprobs, "finish_reason": None}],
        )

    def token(self, call: Call, text: str, last: bool) -> bytes:
        if call.logprobs is not None:  # every frame differs: no template
            return self.render_token(call, text, last)
        return super().token(call, text, last)

    def _usage(self, call: Call) -> dict[str, Any]:
        return {
            "prompt_tokens": call.input_tokens,
            "completion_tokens": call.output_tokens,
            "total_tokens": call.input_tokens + call.output_tokens,
            "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0},
        }

    def tail(self, call: Call) -> bytes:
        out = self._chunk(
            call, [{"index": 0, "delta": {}, "logprobs": None, "finish_reason": _finish(call)}]
        )
        if call.include_usage:
            out += self._chunk(call, [], self._usage(call))
        return out + b"data: [DONE]\n\n"

    def keepalive(self) -> bytes:
        return b": OPENROUTER PROCESSING\n\n"

    def stream_error(self, call: Call, overloaded: bool) -> bytes:
        kind = "overloaded" if overloaded else "api_error"
        _, message, type_, code = _MESSAGES[kind]
        return b"data: " + dumps(_error(message, type_, code)) + b"\n\n"

    def complete(self, call: Call, text: str) -> dict[str, Any]:
        return {
            "id": "chatcmpl-" + call.request_id[4:],
            "object": "chat.completion",
            "created": call.created,
            "model": call.answered_by,
            "choices": [
                {
                    "index": 0,
                    "message": self._message(call, text),
                    "logprobs": (
                        {"content": call.logprobs, "refusal": None}
                        if call.logprobs is not None
                        else None
                    ),
                    "finish_reason": _finish(call),
                }
            ],
            "usage": self._usage(call) if call.include_usage else None,
            "service_tier": "default",
            "system_fingerprint": call.fingerprint,
        }

    def _message(self, call: Call, text: str) -> dict[str, Any]:
        message: dict[str, Any] = {
            "role": "assistant",
            "content": text,
            "refusal": None,
            "annotations": [],
        }
        if call.tool is not None:
            message["content"] = None
            message["tool_calls"] = [
                {
                    "id": "call_" + call.tool.id,
                    "type": "function",
                    "function": {"name": call.tool.name, "arguments": text},
                }
            ]
        return message

    def model_list(self, names: list[str]) -> dict[str, Any]:
        return {
            "object": "list",
            "data": [
                {"id": n, "object": "model", "created": 1700000000, "owned_by": "system"}
                for n in names
            ],
        }
