"""Anthropic Messages as api.anthropic.com speaks it (shapes from anthropic-sdk-python's fixtures)."""

from __future__ import annotations

import json
import math
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from monitor.simulator.wire import Call, Wire, html_500, json_response, sse

_ERRORS: dict[str, tuple[int, str, str]] = {
    # kind: (status, error type, message)
    "rate_limited": (
        429,
        "rate_limit_error",
        "This request would exceed the rate limit for your organization of 50 requests per "
        "minute. For details, refer to: https://docs.claude.com/en/api/rate-limits.",
    ),
    "insufficient_quota": (
        400,
        "invalid_request_error",
        "Your credit balance is too low to access the Anthropic API. Please go to Plans & "
        "Billing to upgrade or purchase credits.",
    ),
    "overloaded": (529, "overloaded_error", "Overloaded"),
    "api_error": (500, "api_error", "Internal server error"),
    "auth": (401, "authentication_error", "invalid x-api-key"),
    "forbidden": (
        403,
        "permission_error",
        "Your API key does not have permission to use the specified resource.",
    ),
    "bad_request": (400, "invalid_request_error", "messages: Field required"),
}


_STOP = {"stop": "end_turn", "length": "max_tokens", "tool": "tool_use"}


def _error(type_: str, message: str, request_id: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"type": "error", "error": {"type": type_, "message": message}}
    if request_id:
        body["request_id"] = request_id
    return body


class AnthropicWire(Wire):
    name = "anthropic"
    request_id_header = "request-id"
    chat_paths = ("/v1/messages",)
    models_paths = ("/v1/models",)

    def unknown_path(self, request: Request) -> Response:
        return json_response(404, _error("not_found_error", "Not Found"))

    def speaks(self, request: Request) -> bool:
        return "anthropic-version" in request.headers or "x-api-key" in request.headers

    def key(self, request: Request) -> str | None:
        return request.headers.get("x-api-key")

    def prompt(self, body: dict[str, Any]) -> str:
        for message in reversed(body.get("messages") or []):
            if isinstance(message, dict) and message.get("role") == "user":
                content = message.get("content")
                if isinstance(content, list):
                    return " ".join(str(b.get("text", "")) for b in content if isinstance(b, dict))
                return str(content or "")
        return ""

    def tools(self, body: dict[str, Any]) -> tuple[list[tuple[str, dict[str, Any]]], str]:
        offered = [
            (t["name"], t.get("input_schema") or {})
            for t in body.get("tools") or []
            if isinstance(t, dict) and isinstance(t.get("name"), str)
        ]
        choice = body.get("tool_choice") or {"type": "auto"}
        kind = choice.get("type") if isinstance(choice, dict) else "auto"
        named = {"auto": "auto", "any": "required", "none": "none"}
        return offered, named.get(str(kind)) or str(choice.get("name", "required"))

    def precheck(self, request: Request, body: dict[str, Any], call: Call) -> Response | None:
        if not request.headers.get("anthropic-version"):
            message = "anthropic-version: header is required"
        elif "max_tokens" not in body:
            message = "max_tokens: Field required"
        else:
            return None
        return json_response(
            400,
            _error("invalid_request_error", message, call.request_id),
            self.headers(call),
        )

    def error(self, kind: str, call: Call) -> Response:
        headers = self.headers(call)
        if kind == "server_error":
            return html_500()
        if kind == "not_found":
            return json_response(
                404, _error("not_found_error", f"model: {call.model}", call.request_id), headers
            )
        status, type_, message = _ERRORS[kind]
        if kind == "rate_limited":
            headers.update(
                {
                    "retry-after": str(math.ceil(call.retry_after)),
                    "anthropic-ratelimit-requests-limit": "50",
                    "anthropic-ratelimit-requests-remaining": "0",
                    "x-should-retry": "true",
                }
            )
        elif status >= 500:
            headers["x-should-retry"] = "true"
        return json_response(status, _error(type_, message, call.request_id), headers)

    def head(self, call: Call) -> bytes:
        message: dict[str, Any] = {
            "id": "msg_" + call.request_id[4:],
            "type": "message",
            "role": "assistant",
            "model": call.answered_by,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {
                "input_tokens": call.input_tokens,
                "cache_creation_input_tokens": 0,
                "cache_read_input_tokens": 0,
                "output_tokens": 1,
            },
        }
        # Usage is always sent, whatever the scenario's `usage`: the real API always does, and
        # the official SDK fails on a message without it.
        block: dict[str, Any] = {"type": "text", "text": ""}
        if call.tool is not None:
            block = {
                "type": "tool_use",
                "id": "toolu_" + call.tool.id,
                "name": call.tool.name,
                "input": {},
            }
        return (
            sse({"type": "message_start", "message": message}, "message_start")
            + sse(
                {"type": "content_block_start", "index": 0, "content_block": block},
                "content_block_start",
            )
            + sse({"type": "ping"}, "ping")
        )

    def render_token(self, call: Call, text: str, last: bool) -> bytes:
        delta = {"type": "text_delta", "text": text}
        if call.tool is not None:
            delta = {"type": "input_json_delta", "partial_json": text}
        return sse(
            {"type": "content_block_delta", "index": 0, "delta": delta},
            "content_block_delta",
        )

    def tail(self, call: Call) -> bytes:
        delta: dict[str, Any] = {
            "type": "message_delta",
            "delta": {"stop_reason": _STOP[call.stop], "stop_sequence": None},
        }
        delta["usage"] = {"output_tokens": call.output_tokens}
        return (
            sse({"type": "content_block_stop", "index": 0}, "content_block_stop")
            + sse(delta, "message_delta")
            + sse({"type": "message_stop"}, "message_stop")
        )

    def keepalive(self) -> bytes:
        return sse({"type": "ping"}, "ping")

    def stream_error(self, call: Call, overloaded: bool) -> bytes:
        _, type_, message = _ERRORS["overloaded" if overloaded else "api_error"]
        return sse(_error(type_, message), "error")

    def complete(self, call: Call, text: str) -> dict[str, Any]:
        return {
            "id": "msg_" + call.request_id[4:],
            "type": "message",
            "role": "assistant",
            "model": call.answered_by,
            "content": [self._block(call, text)],
            "stop_reason": _STOP[call.stop],
            "stop_sequence": None,
            "usage": {
                "input_tokens": call.input_tokens,
                "cache_creation_input_tokens": 0,
                "cache_read_input_tokens": 0,
                "output_tokens": call.output_tokens,
            },
        }

    def _block(self, call: Call, text: str) -> dict[str, Any]:
        if call.tool is None:
            return {"type": "text", "text": text}
        try:
            given = json.loads(text)
        except ValueError:
            given = {}  # a whole reply holds parsed input; broken JSON cannot be shown there
        return {
            "type": "tool_use",
            "id": "toolu_" + call.tool.id,
            "name": call.tool.name,
            "input": given,
        }

    def model_list(self, names: list[str]) -> dict[str, Any]:
        return {
            "data": [
                {"type": "model", "id": n, "display_name": n, "created_at": "2025-01-01T00:00:00Z"}
                for n in names
            ],
            "has_more": False,
            "first_id": names[0] if names else None,
            "last_id": names[-1] if names else None,
        }
