"""The probes' HTTP client: one httpx client over several small httpcore connection pools.

    client = make_client(config)     # httpx.AsyncClient; its transport shards requests

httpcore looks at every connection of a pool, for every request it places (and checks each
idle one's socket for expiry), so a pool's cost per request grows with its size, and a pool
of hundreds of connections costs quadratically over an interval (`bench/load.py --pool-bench`
measures it). `ShardedTransport` spreads requests over pools of at most `POOL_CONNECTIONS`
connections each, the limits split between them: each request goes to the pool with the fewest
requests in flight (round-robin among equals), so a pool whose connections are all held by
hung providers is not given more while others are free. The pools share one `ssl.SSLContext`:
each loads the CA bundle (~0.8 MB), and 64 pools of their own cost ~50 MB of RSS.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Callable

import httpx

POOL_CONNECTIONS = 8
"""Connections per pool. CPU per request with 64 streams in a tight loop (128 connections
allowed), load average ~10: 3.2 ms at 32 per pool, 1.9 ms at 16, 1.25 ms at 8, 0.9 ms at 4."""


class _Counted(httpx.AsyncByteStream):
    """A response body that says when it is closed (its request no longer holds a connection)."""

    def __init__(self, stream: httpx.AsyncByteStream, release: Callable[[], None]) -> None:
        self._stream = stream
        self._release: Callable[[], None] | None = release

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._stream:
            yield chunk

    async def aclose(self) -> None:
        try:
            await self._stream.aclose()
        finally:
            release, self._release = self._release, None
            if release is not None:
                release()


class ShardedTransport(httpx.AsyncBaseTransport):
    """`shards` `httpx.AsyncHTTPTransport`s, each with its share of `limits`; a request goes to
    the one with the fewest requests in flight. They share one SSL context (`httpx`'s default:
    certifi's CA bundle, `SSL_CERT_FILE`/`SSL_CERT_DIR` when set)."""

    def __init__(self, limits: httpx.Limits, shards: int) -> None:
        def share(value: int | None) -> int | None:
            return None if value is None else max(1, math.ceil(value / shards))

        each = httpx.Limits(
            max_connections=share(limits.max_connections),
            max_keepalive_connections=share(limits.max_keepalive_connections),
            keepalive_expiry=limits.keepalive_expiry,
        )
        context = httpx.create_ssl_context()
        self.transports = [
            httpx.AsyncHTTPTransport(verify=context, limits=each) for _ in range(shards)
        ]
        self.active = [0] * shards
        self._next = 0

    def _pick(self) -> int:
        count = len(self.active)
        start = self._next
        best = start
        for offset in range(count):
            i = (start + offset) % count
            if self.active[i] < self.active[best]:
                best = i
                if not self.active[i]:
                    break
        self._next = (best + 1) % count
        return best

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        i = self._pick()
        self.active[i] += 1

        def release() -> None:
            self.active[i] -= 1

        try:
            response = await self.transports[i].handle_async_request(request)
        except BaseException:
            release()
            raise
        assert isinstance(response.stream, httpx.AsyncByteStream)
        response.stream = _Counted(response.stream, release)
        return response

    async def aclose(self) -> None:
        for transport in self.transports:
            await transport.aclose()


def shards_for(max_connections: int, per_pool: int = POOL_CONNECTIONS) -> int:
    return max(1, math.ceil(max_connections / per_pool))
