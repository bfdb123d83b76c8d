"""The one place where the wire's failures become outcomes: statuses, error bodies, exceptions."""

from __future__ import annotations

import json

import httpx
import pytest

from monitor.providers.classify import (
    classify_error_object,
    classify_exception,
    classify_status,
    parse_retry_after,
)
from monitor.result import Outcome

JSON = {"content-type": "application/json"}
HTML = {"content-type": "text/html"}


def _body(obj: object) -> bytes:
    return json.dumps(obj).encode()


STATUS_CASES: list[tuple[str, int, dict[str, str], bytes, Outcome, str]] = [
    (
        "openai 429 rate limit",
        429,
        JSON,
        _body(
            {
                "error": {
                    "message": "Rate limit reached",
                    "type": "requests",
                    "code": "rate_limit_exceeded",
                }
            }
        ),
        Outcome.RATE_LIMITED,
        "rate_limit_exceeded",
    ),
    (
        "openai 429 out of quota stays told apart",
        429,
        JSON,
        _body(
            {
                "error": {
                    "message": "You exceeded your current quota",
                    "type": "insufficient_quota",
                    "code": "insufficient_quota",
                }
            }
        ),
        Outcome.RATE_LIMITED,
        "insufficient_quota",
    ),
    (
        "openai 503 overloaded",
        503,
        JSON,
        _body(
            {
                "error": {
                    "message": "The server is overloaded or not ready yet.",
                    "type": "server_error",
                }
            }
        ),
        Outcome.OVERLOADED,
        "overloaded",
    ),
    (
        "a 500 that says overloaded",
        500,
        JSON,
        _body(
            {
                "error": {
                    "message": "The engine is currently overloaded, please try again",
                    "type": "server_error",
                }
            }
        ),
        Outcome.OVERLOADED,
        "overloaded",
    ),
    (
        "anthropic 529",
        529,
        JSON,
        _body(
            {
                "type": "error",
                "error": {"type": "overloaded_error", "message": "Overloaded"},
                "request_id": "req_011",
            }
        ),
        Outcome.OVERLOADED,
        "req_011",
    ),
    (
        "anthropic 500 api_error",
        500,
        JSON,
        _body(
            {"type": "error", "error": {"type": "api_error", "message": "Internal server error"}}
        ),
        Outcome.SERVER_ERROR,
        "api_error",
    ),
    (
        "gemini bad key is a 400",
        400,
        JSON,
        _body(
            {
                "error": {
                    "code": 400,
                    "message": "API key not valid. Please pass a valid API key.",
                    "status": "INVALID_ARGUMENT",
                }
            }
        ),
        Outcome.AUTH_ERROR,
        "API key not valid",
    ),
    (
        "gemini 429",
        429,
        JSON,
        _body({"error": {"code": 429, "message": "quota", "status": "RESOURCE_EXHAUSTED"}}),
        Outcome.RATE_LIMITED,
        "RESOURCE_EXHAUSTED",
    ),
    (
        "gemini 503",
        503,
        JSON,
        _body(
            {"error": {"code": 503, "message": "The model is overloaded.", "status": "UNAVAILABLE"}}
        ),
        Outcome.OVERLOADED,
        "UNAVAILABLE",
    ),
    (
        "vllm error object",
        400,
        JSON,
        _body({"object": "error", "message": "max_tokens too large", "type": "BadRequestError"}),
        Outcome.CLIENT_ERROR,
        "max_tokens too large",
    ),
    ("401", 401, JSON, _body({"error": {"message": "bad key"}}), Outcome.AUTH_ERROR, "bad key"),
    ("403", 403, JSON, _body({"error": {"message": "region"}}), Outcome.AUTH_ERROR, "region"),
    ("404", 404, JSON, _body({"error": {"message": "no model"}}), Outcome.CLIENT_ERROR, "no model"),
    ("408", 408, {}, b"", Outcome.TIMEOUT, "HTTP 408"),
    (
        "an HTML 502 from a CDN",
        502,
        HTML,
        b"<html><head><title>502 Bad Gateway</title></head><body>cloudflare</body></html>",
        Outcome.SERVER_ERROR,
        "502 Bad Gateway",
    ),
    (
        "an HTML 503",
        503,
        HTML,
        b"<html><title>Service Unavailable</title></html>",
        Outcome.OVERLOADED,
        "HTML page",
    ),
    ("an HTML page under 200", 200, HTML, b"<html>login</html>", Outcome.SERVER_ERROR, "HTML"),
    (
        "JSON instead of a stream under 200",
        200,
        JSON,
        _body({"id": "chatcmpl-1", "choices": []}),
        Outcome.BAD_RESPONSE,
        "expected an event stream, got application/json",
    ),
    (
        "a JSON error under 200",
        200,
        JSON,
        _body({"error": {"message": "Provider returned error", "type": "overloaded"}}),
        Outcome.OVERLOADED,
        "Provider returned error",
    ),
    ("plain text 500", 500, {"content-type": "text/plain"}, b"oops", Outcome.SERVER_ERROR, "oops"),
    ("a 302", 302, {}, b"", Outcome.BAD_RESPONSE, "HTTP 302"),
]


@pytest.mark.parametrize(
    ("status", "headers", "body", "outcome", "said"),
    [case[1:] for case in STATUS_CASES],
    ids=[case[0] for case in STATUS_CASES],
)
def test_an_error_reply_has_its_outcome_and_says_why(
    status: int, headers: dict[str, str], body: bytes, outcome: Outcome, said: str
) -> None:
    failure = classify_status(status, httpx.Headers(headers), body)
    assert failure.outcome is outcome
    assert said in failure.error
    assert len(failure.error) <= 400


def test_the_request_id_and_retry_after_are_kept() -> None:
    headers = httpx.Headers({"x-request-id": "req_abc", "retry-after": "7"})
    failure = classify_status(429, headers, _body({"error": {"message": "slow down"}}))
    assert failure.extra == {"request_id": "req_abc", "retry_after": 7.0}
    assert failure.error.endswith("(request req_abc)")


def test_gemini_retry_info_becomes_retry_after() -> None:
    body = {
        "error": {
            "code": 429,
            "message": "quota",
            "status": "RESOURCE_EXHAUSTED",
            "details": [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "13s"}],
        }
    }
    assert classify_status(429, httpx.Headers(), _body(body)).extra["retry_after"] == 13.0


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({"retry-after-ms": "1500"}, 1.5),
        ({"retry-after": "20"}, 20.0),
        ({}, None),
        ({"retry-after": "soon"}, None),
        ({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}, 0.0),
    ],
)
def test_retry_after_is_read_in_every_form(headers: dict[str, str], seconds: float | None) -> None:
    assert parse_retry_after(httpx.Headers(headers)) == seconds


@pytest.mark.parametrize(
    ("obj", "outcome"),
    [
        (
            {"error": {"message": "The server had an error", "type": "server_error"}},
            Outcome.STREAM_ERROR,
        ),
        (
            {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}},
            Outcome.OVERLOADED,
        ),
        (
            {"type": "error", "error": {"type": "rate_limit_error", "message": "slow"}},
            Outcome.RATE_LIMITED,
        ),
        (
            {"error": {"code": 503, "message": "try later", "status": "UNAVAILABLE"}},
            Outcome.OVERLOADED,
        ),
        (
            {"object": "error", "message": "engine died", "type": "InternalServerError"},
            Outcome.STREAM_ERROR,
        ),
        ({"error": "a bare string"}, Outcome.STREAM_ERROR),
    ],
)
def test_an_error_inside_a_200_stream_is_a_failure(
    obj: dict[str, object], outcome: Outcome
) -> None:
    failure = classify_error_object(obj)
    assert failure.outcome is outcome
    assert failure.error.startswith("error in stream")


@pytest.mark.parametrize(
    ("exc", "responded", "outcome"),
    [
        (TimeoutError(), False, Outcome.TIMEOUT),
        (httpx.ConnectTimeout("slow"), False, Outcome.TIMEOUT),
        (httpx.ReadTimeout("slow"), True, Outcome.TIMEOUT),
        (httpx.ConnectError("refused"), False, Outcome.CONNECTION_ERROR),
        (httpx.RemoteProtocolError("peer closed"), False, Outcome.CONNECTION_ERROR),
        (httpx.RemoteProtocolError("incomplete chunked read"), True, Outcome.STREAM_ERROR),
        (httpx.ReadError("reset"), True, Outcome.STREAM_ERROR),
        (httpx.DecodingError("bad gzip"), True, Outcome.BAD_RESPONSE),
        (httpx.UnsupportedProtocol("ftp"), False, Outcome.CONNECTION_ERROR),
        (OSError("no route"), False, Outcome.CONNECTION_ERROR),
    ],
)
def test_each_exception_has_its_outcome(
    exc: BaseException, responded: bool, outcome: Outcome
) -> None:
    failure = classify_exception(exc, responded=responded, timeout=5.0)
    assert failure.outcome is outcome
    assert failure.error
