"""The probes' HTTP client: one httpx client over several httpcore connection pools.

    client = make_client(config)     # httpx.AsyncClient; its transport shards requests

httpcore looks at every connection of a pool, for every request it places (and checks each
idle one's socket for expiry), so a pool's cost per request grows with its size, and a pool
of hundreds of connections costs quadratically over an interval (`bench/load.py --pool-bench`
measures it). `ShardedTransport` spreads requests round-robin over pools of at most
`POOL_CONNECTIONS` connections each; the limits are split between them.
"""

from __future__ import annotations

import itertools
import math

import httpx

POOL_CONNECTIONS = 32


class ShardedTransport(httpx.AsyncBaseTransport):
    """Round-robin over `shards` `httpx.AsyncHTTPTransport`s, each with its share of `limits`."""

    def __init__(self, limits: httpx.Limits, shards: int) -> None:
        def share(value: int | None) -> int | None:
            return None if value is None else max(1, math.ceil(value / shards))

        each = httpx.Limits(
            max_connections=share(limits.max_connections),
            max_keepalive_connections=share(limits.max_keepalive_connections),
            keepalive_expiry=limits.keepalive_expiry,
        )
        self.transports = [httpx.AsyncHTTPTransport(limits=each) for _ in range(shards)]
        self._next = itertools.cycle(self.transports)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await next(self._next).handle_async_request(request)

    async def aclose(self) -> None:
        for transport in self.transports:
            await transport.aclose()


def shards_for(max_connections: int, per_pool: int = POOL_CONNECTIONS) -> int:
    return max(1, math.ceil(max_connections / per_pool))
