"""When the request was written and how long the connection took, from httpx's `trace` extension.

httpcore reports `connection.connect_tcp.*`, `connection.start_tls.*` and
`http11.send_request_body.*` (or `http2.…`) to a callback set in the request's extensions. Timing from there, rather than from before `client.send`, keeps the monitor's own
queueing (a full connection pool, a busy event loop) and connection setup out of the provider's
TTFT and latency.
"""

from __future__ import annotations

from time import perf_counter
from typing import Any


class Timing:
    """Collects the moments of one request. All values are `time.perf_counter()` seconds."""

    __slots__ = ("connect_done", "connect_start", "requested", "sent", "started")

    def __init__(self) -> None:
        self.started = perf_counter()
        self.requested = False
        self.sent: float | None = None
        self.connect_start: float | None = None
        self.connect_done: float | None = None

    async def trace(self, name: str, info: dict[str, Any]) -> None:
        """The httpx `trace` extension callback (async, as the async client requires)."""
        if name.endswith(".send_request_headers.started"):
            self.requested = True
        elif name.endswith(".send_request_body.started"):
            # The body (one small buffer) is handed to the socket right after this event, with
            # no await in between; `.complete` comes only after the write yields to the event
            # loop once, which on a busy loop would add the loop's backlog to the start.
            self.sent = perf_counter()
        elif name == "connection.connect_tcp.started":
            self.connect_start = perf_counter()
        elif name in ("connection.connect_tcp.complete", "connection.start_tls.complete"):
            self.connect_done = perf_counter()

    @property
    def origin(self) -> float:
        """Where TTFT and latency are counted from: the request written, else the call's start."""
        return self.sent if self.sent is not None else self.started

    @property
    def reused(self) -> bool:
        """The request went out on a connection kept from an earlier request (none was opened)."""
        return self.requested and self.connect_start is None

    @property
    def connect_ms(self) -> float | None:
        """Connection setup (TCP, and TLS when used) when this request opened one, else None."""
        if self.connect_start is None or self.connect_done is None:
            return None
        return (self.connect_done - self.connect_start) * 1000.0

    def ms_since_sent(self, moment: float | None) -> float | None:
        return None if moment is None else max(0.0, (moment - self.origin) * 1000.0)
