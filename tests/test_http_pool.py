"""The probes' transport (`monitor.http_pool`): requests spread over small pools, each to the
pool with the fewest requests in flight, so a pool held by hung streams is not given more."""

from __future__ import annotations

import ssl
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


def test_the_pools_share_one_ssl_context_that_verifies() -> None:
    # Each context loads the CA bundle (~0.8 MB): 64 pools of their own cost ~50 MB of RSS.
    transport = ShardedTransport(httpx.Limits(max_connections=512), shards_for(512))
    contexts = [t._pool._ssl_context for t in transport.transports]  # type: ignore[attr-defined]
    assert len(contexts) == 64
    assert len({id(c) for c in contexts}) == 1
    context = contexts[0]
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
