"""What can go wrong with a simulated call: the `errors:` kinds a scenario draws from.

Each `Fault` is played out by the app the same way on every protocol; each `Wire` only says how
it looks there (an error reply, an error event inside a stream).
"""

from __future__ import annotations

from enum import StrEnum


class Fault(StrEnum):
    RATE_LIMITED = "rate_limited"  # 429 with retry-after (Gemini: RetryInfo in the body)
    INSUFFICIENT_QUOTA = "insufficient_quota"  # OpenAI 429; Anthropic 400 billing; Gemini 429
    OVERLOADED = "overloaded"  # OpenAI 503, Anthropic 529 overloaded_error, Gemini 503 UNAVAILABLE
    SERVER_ERROR = "server_error"  # 500 with an HTML page, as a proxy in front of the API sends it
    API_ERROR = "api_error"  # 500 with the provider's JSON error
    AUTH = "auth"  # the provider's bad-key reply (Gemini: 400 API key not valid)
    FORBIDDEN = "forbidden"  # 403 permission error
    BAD_REQUEST = "bad_request"  # 400 invalid request
    MID_STREAM_ERROR = "mid_stream_error"  # 200, a few tokens, then the protocol's error event
    MID_STREAM_OVERLOADED = "mid_stream_overloaded"  # 200, a few tokens, then an overloaded event
    TRUNCATE = "truncate"  # 200, a few tokens, then the stream ends cleanly without its end mark
    DISCONNECT = "disconnect"  # 200, a few tokens, then the connection is dropped
    GARBAGE = "garbage"  # 200 event stream whose data is not JSON
    EMPTY = "empty"  # 200, a complete stream with no text
    HANG = "hang"  # 200 headers, then nothing until the client gives up
    NO_HEADERS = "no_headers"  # the request is read, then nothing at all
    GZIP_BOMB = "gzip_bomb"  # 200, `content-encoding: gzip`: ~1 MB that inflates to 1 GiB of zeros

    @property
    def is_http_error(self) -> bool:
        """Answered at once with the protocol's HTTP error reply."""
        return self in _HTTP_ERRORS

    @property
    def breaks_the_stream(self) -> bool:
        """A stream that starts well and breaks after `fail_after` tokens."""
        return self in _MID_STREAM


_HTTP_ERRORS = frozenset(
    {
        Fault.RATE_LIMITED,
        Fault.INSUFFICIENT_QUOTA,
        Fault.OVERLOADED,
        Fault.SERVER_ERROR,
        Fault.API_ERROR,
        Fault.AUTH,
        Fault.FORBIDDEN,
        Fault.BAD_REQUEST,
    }
)
_MID_STREAM = frozenset(
    {Fault.MID_STREAM_ERROR, Fault.MID_STREAM_OVERLOADED, Fault.TRUNCATE, Fault.DISCONNECT}
)
