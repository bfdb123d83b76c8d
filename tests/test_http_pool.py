"""The probes' transport (`monitor.http_pool`): requests spread over small pools, each to the
pool with the fewest requests in flight, so a pool held by hung streams is not given more."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import httpx

from monitor.http_pool import ShardedTransport, shards_for
from tests.hostile import Request, Response, serve


def _held_until(event: threading.Event) -> Iterator[bytes]:
    yield b"data: start\n\n"
    event.wait(30)
    yield b"data: end\n\n"


async def test_a_pool_whose_connections_are_all_held_gets_no_new_request() -> None:
    release = threading.Event()

    def reply(request: Request) -> Response:
        if request.path == "/hang":
            return Response(200, body=_held_until(release))
        return Response(200, body=b"data: ok\n\n")

    # Two pools of one connection each; a request placed in a full pool waits for it, and
    # here gives up after the pool timeout instead.
    transport = ShardedTransport(httpx.Limits(max_connections=2, max_keepalive_connections=2), 2)
    timeout = httpx.Timeout(30.0, pool=2.0)
    with serve(reply) as server:
        async with httpx.AsyncClient(transport=transport, timeout=timeout) as client:
            try:
                async with client.stream("GET", f"{server.url}/hang") as hung:
                    body = hung.aiter_raw()
                    await body.__anext__()  # holds one pool's only connection
                    for _ in range(4):  # round-robin would put every other one behind it
                        quick = await client.get(f"{server.url}/quick")
                        assert quick.status_code == 200
                    assert sorted(transport.active) == [0, 1]
            finally:
                release.set()
    assert transport.active == [0, 0]


def test_pools_are_small_and_share_the_limits() -> None:
    count = shards_for(128)
    transport = ShardedTransport(httpx.Limits(max_connections=128), count)
    assert count == len(transport.transports) == 16
