"""What went wrong, in brownout's words: HTTP statuses, error bodies and httpx exceptions → Outcome.

This is the one place where the wire's failures become outcomes:

    classify_status(status, headers, body)  an HTTP error reply (any provider's body shape)
    classify_error_object(obj)              a JSON error that arrived inside a 200 stream
    classify_exception(exc, responded=)     an exception from httpx or the overall deadline

Error text is kept short and useful: the provider's message, its type or code, the request id.
It may still contain what the provider echoed (part of a key): `monitor.probe` scrubs it.
"""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from monitor.result import Outcome, utcnow

ERROR_TEXT_MAX = 300
_TITLE = re.compile(rb"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_SPACES = re.compile(r"\s+")


@dataclass(slots=True)
class Failure:
    """An outcome other than an answer, with its short description and wire details."""

    outcome: Outcome
    error: str
    extra: dict[str, Any] = field(default_factory=dict)


def _short(text: str, limit: int = ERROR_TEXT_MAX) -> str:
    text = _SPACES.sub(" ", text).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def describe_error_object(obj: dict[str, Any]) -> tuple[str, str]:
    """(kind, message) from any provider's error JSON.

    OpenAI `{"error": {"message", "type", "code"}}`, Anthropic `{"type": "error", "error":
    {"type", "message"}}`, Gemini `{"error": {"code", "message", "status"}}`, vLLM
    `{"object": "error", "message", "type"}`. `kind` joins the type/code/status words found.
    """
    inner = obj.get("error")
    if not isinstance(inner, dict):
        inner = obj if obj.get("object") == "error" else {"message": inner}
    words = []
    for key in ("status", "type", "code"):
        value = inner.get(key)
        if isinstance(value, str) and value and value not in words:
            words.append(value)
    message = inner.get("message")
    return " ".join(words), str(message) if message is not None else ""


def _outcome_for(status: int | None, kind: str, message: str) -> Outcome:
    said = f"{kind} {message}".lower()
    if status == 429 or "rate_limit" in said or "resource_exhausted" in said:
        return Outcome.RATE_LIMITED
    if status in (503, 529) or "overloaded" in said or ("unavailable" in said and status is None):
        return Outcome.OVERLOADED
    if status is None:
        return Outcome.STREAM_ERROR
    if status >= 500:
        return Outcome.SERVER_ERROR
    if status in (401, 403) or "api key not valid" in said or "api_key_invalid" in said:
        return Outcome.AUTH_ERROR
    if status == 408:
        return Outcome.TIMEOUT
    if status >= 400:
        return Outcome.CLIENT_ERROR
    return Outcome.BAD_RESPONSE


def classify_error_object(obj: dict[str, Any], status: int | None = None) -> Failure:
    """A JSON error object; `status` None means it arrived mid-stream under HTTP 200."""
    kind, message = describe_error_object(obj)
    outcome = _outcome_for(status, kind, message)
    where = f"HTTP {status}" if status is not None else "error in stream"
    text = f"{where} {kind}: {message}" if kind else f"{where}: {message}"
    extra: dict[str, Any] = {}
    if isinstance(obj.get("request_id"), str):
        extra["request_id"] = obj["request_id"]
    delay = _gemini_retry_delay(obj)
    if delay is not None:
        extra["retry_after"] = delay
    return Failure(outcome, _short(text), extra)


def classify_status(status: int, headers: httpx.Headers, body: bytes) -> Failure:
    """An HTTP reply that is not a success, or a success that is not an event stream (an HTML
    page is a server error whatever its status; JSON under 200 is an error or a bad response)."""
    content_type = headers.get("content-type", "")
    obj: Any = None
    if body[:1] in (b"{", b"["):
        try:
            obj = json.loads(body)
        except ValueError:
            obj = None
    is_error = isinstance(obj, dict) and ("error" in obj or obj.get("object") == "error")
    if is_error and 200 <= status < 300:
        failure = classify_error_object(obj)  # an error under 200, as mid-stream
    elif is_error:
        failure = classify_error_object(obj, status)
    elif 200 <= status < 300 and "html" not in content_type:
        shown = content_type or "no content type"
        failure = Failure(Outcome.BAD_RESPONSE, f"expected an event stream, got {shown}")
    elif "html" in content_type or body.lstrip()[:1] == b"<":
        title = _TITLE.search(body)
        name = title.group(1).decode("utf-8", "replace") if title else "no title"
        # A proxy's or CDN's page instead of the API's answer: the service is not serving.
        outcome = _outcome_for(status, "", "") if status >= 300 else Outcome.SERVER_ERROR
        failure = Failure(outcome, _short(f"HTTP {status}: an HTML page ({name})"))
    else:
        said = body.decode("utf-8", "replace")
        failure = Failure(
            _outcome_for(status, "", said), _short(f"HTTP {status}: {said or 'no body'}")
        )
    request_id = headers.get("x-request-id") or headers.get("request-id")
    if request_id:
        failure.extra.setdefault("request_id", request_id)
    retry_after = parse_retry_after(headers)
    if retry_after is not None:
        failure.extra["retry_after"] = retry_after
    if "request_id" in failure.extra:
        failure.error = _short(f"{failure.error} (request {failure.extra['request_id']})", 400)
    return failure


def parse_retry_after(headers: httpx.Headers) -> float | None:
    """Seconds to wait, from `retry-after-ms` or `retry-after` (seconds or an HTTP date)."""
    value = headers.get("retry-after-ms")
    if value:
        try:
            return float(value) / 1000.0
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        pass
    try:
        return max(0.0, (parsedate_to_datetime(value) - utcnow()).total_seconds())
    except (TypeError, ValueError):
        return None


def _gemini_retry_delay(obj: dict[str, Any]) -> float | None:
    inner = obj.get("error")
    details = inner.get("details") if isinstance(inner, dict) else None
    for detail in details if isinstance(details, list) else []:
        if isinstance(detail, dict) and str(detail.get("@type", "")).endswith("RetryInfo"):
            delay = str(detail.get("retryDelay", ""))
            try:
                return float(delay.removesuffix("s"))
            except ValueError:
                return None
    return None


def classify_exception(exc: BaseException, *, responded: bool, timeout: float) -> Failure:
    """An exception raised while calling; `responded` says the status line had arrived.

    A failure of the network after the reply began is a broken stream (`stream_error`); before
    it, the provider could not be reached (`connection_error`). Any time bound is `timeout`.
    """
    if isinstance(exc, (TimeoutError, asyncio.TimeoutError, httpx.TimeoutException)):
        return Failure(Outcome.TIMEOUT, f"no complete answer within {timeout:g}s")
    if isinstance(exc, httpx.DecodingError):
        return Failure(Outcome.BAD_RESPONSE, _short(f"undecodable reply: {exc}"))
    detail = _short(f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)
    if responded and isinstance(exc, (httpx.TransportError, OSError)):
        return Failure(Outcome.STREAM_ERROR, f"stream broken: {detail}")
    return Failure(Outcome.CONNECTION_ERROR, detail)
