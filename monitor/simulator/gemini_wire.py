"""Gemini (Developer API) as generativelanguage.googleapis.com speaks it.

Shapes from FirebaseExtended/vertexai-sdk-test-data's googleai recordings: text chunks carry
`usageMetadata` without `candidatesTokenCount` until the last, which has `finishReason`; no
`[DONE]`; errors are `{"error": {"code", "message", "status", "details"}}`.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from monitor.simulator.wire import Call, Endpoint, Wire, dumps, html_500, json_response

_ERRORS: dict[str, tuple[int, str, str]] = {
    "rate_limited": (
        429,
        "RESOURCE_EXHAUSTED",
        "You exceeded your current quota, please check your plan and billing details. For more "
        "information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits.",
    ),
    "overloaded": (503, "UNAVAILABLE", "The model is overloaded. Please try again later."),
    "api_error": (
        500,
        "INTERNAL",
        "An internal error has occurred. Please retry or report in "
        "https://developers.generativeai.google/guide/troubleshooting",
    ),
    "auth": (400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key."),
    "forbidden": (
        403,
        "PERMISSION_DENIED",
        "Method doesn't allow unregistered callers (callers without established identity). "
        "Please use API Key or other form of API consumer identity to call this API.",
    ),
    "bad_request": (400, "INVALID_ARGUMENT", "Request contains an invalid argument."),
}
_ERRORS["insufficient_quota"] = _ERRORS["rate_limited"]


def _error(code: int, status: str, message: str, details: list[Any] | None = None) -> Any:
    inner: dict[str, Any] = {"code": code, "message": message, "status": status}
    if details:
        inner["details"] = details
    return {"error": inner}


_NOT_FOUND = {"error": {"code": 404, "message": "Not Found", "status": "NOT_FOUND"}}


class GeminiWire(Wire):
    name = "gemini"
    request_id_header = None
    last_token_differs = True
    # google-genai calls /v1beta by default, /v1 when asked; older SDKs and REST use /v1beta.
    chat_paths = ("/v1beta/models/{rest:path}", "/v1/models/{rest:path}")
    models_paths = ("/v1beta/models",)

    def unknown_path(self, request: Request) -> Response:
        return json_response(404, _NOT_FOUND)

    def speaks(self, request: Request) -> bool:
        return (
            request.url.path.startswith("/v1beta")
            or "x-goog-api-key" in request.headers
            or "key" in request.query_params
        )

    def endpoint(self, request: Request) -> Endpoint | Response:
        """`models/{model}:streamGenerateContent` (SSE with `alt=sse`, else one JSON array,
        sent whole) or `models/{model}:generateContent`."""
        model, _, method = request.path_params["rest"].rpartition(":")
        if method not in ("streamGenerateContent", "generateContent") or not model:
            return json_response(404, _NOT_FOUND)
        stream = method == "streamGenerateContent"
        if stream and request.query_params.get("alt") != "sse":
            return Endpoint(model, False, array=True)
        return Endpoint(model, stream)

    def key(self, request: Request) -> str | None:
        return request.headers.get("x-goog-api-key") or request.query_params.get("key")

    def prompt(self, body: dict[str, Any]) -> str:
        for content in reversed(body.get("contents") or []):
            if isinstance(content, dict) and content.get("role", "user") == "user":
                parts = content.get("parts") or []
                return " ".join(str(p.get("text", "")) for p in parts if isinstance(p, dict))
        return ""

    def max_tokens(self, body: dict[str, Any]) -> int | None:
        config = body.get("generationConfig")
        value = config.get("maxOutputTokens") if isinstance(config, dict) else None
        return value if isinstance(value, int) else None

    whole_tool_calls = True

    def tools(self, body: dict[str, Any]) -> tuple[list[tuple[str, dict[str, Any]]], str]:
        offered = []
        for tool in body.get("tools") or []:
            for declared in (tool or {}).get("functionDeclarations") or []:
                if isinstance(declared, dict) and isinstance(declared.get("name"), str):
                    # The service reads proto JSON, which takes snake_case too (google-genai
                    # sends `parameters_json_schema`).
                    schema = (
                        declared.get("parametersJsonSchema")
                        or declared.get("parameters_json_schema")
                        or declared.get("parameters")
                    )
                    offered.append((declared["name"], schema or {}))
        config = (body.get("toolConfig") or {}).get("functionCallingConfig") or {}
        mode = str(config.get("mode", "AUTO")).upper()
        allowed = config.get("allowedFunctionNames") or []
        if mode == "ANY":
            return offered, str(allowed[0]) if len(allowed) == 1 else "required"
        return offered, "none" if mode == "NONE" else "auto"

    def error(self, kind: str, call: Call) -> Response:
        if kind == "server_error":
            return html_500()
        if kind == "not_found":
            message = (
                f"models/{call.model} is not found for API version v1beta, or is not supported "
                "for generateContent. Call ListModels to see the list of available models and "
                "their supported methods."
            )
            return json_response(404, _error(404, "NOT_FOUND", message))
        if kind == "auth" and not call.key:
            kind = "forbidden"  # no key at all is 403; a wrong one is 400 "API key not valid"
        status, word, message = _ERRORS[kind]
        details: list[Any] = []
        if kind == "auth":
            details.append(
                {
                    "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                    "reason": "API_KEY_INVALID",
                    "domain": "googleapis.com",
                    "metadata": {"service": "generativelanguage.googleapis.com"},
                }
            )
        elif status == 429:
            details.append(
                {
                    "@type": "type.googleapis.com/google.rpc.RetryInfo",
                    "retryDelay": f"{round(call.retry_after)}s",
                }
            )
        return json_response(status, _error(status, word, message, details))

    def _usage(self, call: Call, final: bool) -> dict[str, Any]:
        usage: dict[str, Any] = {"promptTokenCount": call.input_tokens}
        if final:
            usage["candidatesTokenCount"] = call.output_tokens
        usage["totalTokenCount"] = call.input_tokens + (call.output_tokens if final else 0)
        return usage

    def _chunk(self, call: Call, text: str, final: bool) -> dict[str, Any]:
        candidate: dict[str, Any] = {"content": {"parts": [{"text": text}], "role": "model"}}
        malformed = False
        if call.tool is not None:
            try:
                args = json.loads(text)
            except ValueError:  # the service never sends broken JSON: it says the call failed
                malformed = True
                candidate = {
                    "content": {"parts": [], "role": "model"},
                    "finishMessage": f"Malformed function call: {call.tool.name}({text}",
                }
            else:
                part = {"functionCall": {"name": call.tool.name, "args": args}}
                candidate = {"content": {"parts": [part], "role": "model"}}
        if malformed:
            candidate["finishReason"] = "MALFORMED_FUNCTION_CALL"
        elif final:
            candidate["finishReason"] = "MAX_TOKENS" if call.stop == "length" else "STOP"
        candidate["index"] = 0
        chunk: dict[str, Any] = {"candidates": [candidate]}
        if call.include_usage:
            chunk["usageMetadata"] = self._usage(call, final)
        chunk["modelVersion"] = call.answered_by
        chunk["responseId"] = call.request_id[4:]
        return chunk

    def head(self, call: Call) -> bytes:
        return b""

    def render_token(self, call: Call, text: str, last: bool) -> bytes:
        return b"data: " + dumps(self._chunk(call, text, last)) + b"\r\n\r\n"

    def tail(self, call: Call) -> bytes:
        if call.output_tokens == 0:  # nothing was said: the finish still arrives
            return self.render_token(call, "", True)
        return b""

    def stream_error(self, call: Call, overloaded: bool) -> bytes:
        status, word, message = _ERRORS["overloaded" if overloaded else "api_error"]
        return b"data: " + dumps(_error(status, word, message)) + b"\r\n\r\n"

    def complete(self, call: Call, text: str) -> dict[str, Any]:
        return self._chunk(call, text, True)

    def model_list(self, names: list[str]) -> dict[str, Any]:
        return {
            "models": [
                {
                    "name": f"models/{n}",
                    "version": "001",
                    "displayName": n,
                    "inputTokenLimit": 1048576,
                    "outputTokenLimit": 65536,
                    "supportedGenerationMethods": ["generateContent", "streamGenerateContent"],
                }
                for n in names
            ]
        }
