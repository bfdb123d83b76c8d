"""A kept-alive connection the server has closed is not an outage (issue 12, defect 1).

llama.cpp's server says keep-alive and closes the connection after each streamed answer; a probe
that reuses the dead socket fails before any byte of a reply. Such a request is sent once more on
a fresh connection, the retry is recorded in `retry_reason`, and its dead try costs no TTFT.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from time import perf_counter

import httpx
import pytest

from monitor.canaries.defaults import DEFAULT_CANARIES
from monitor.config import CanaryConfig
from monitor.probe import run_probe
from monitor.result import Outcome
from monitor.simulator import SimulatorHandle
from monitor.simulator.connections import DROP_DELAY_S
from monitor.store import Store, results
from tests.conftest import FAST_SCENARIO
from tests.factories import KINDS, ask, target_for

ARITHMETIC = CanaryConfig(**DEFAULT_CANARIES[0])


@pytest.mark.parametrize("kind", KINDS)
async def test_a_request_on_a_dropped_kept_alive_connection_is_sent_again_and_answered(
    simulator_factory: Callable[..., SimulatorHandle], client: httpx.AsyncClient, kind: str
) -> None:
    sim = simulator_factory(FAST_SCENARIO, connections="drop_reused")
    first = await ask(client, sim, kind)
    assert first.outcome is Outcome.OK and first.retry_reason is None

    started = perf_counter()
    second = await ask(client, sim, kind)
    elapsed_ms = (perf_counter() - started) * 1000.0

    assert second.outcome is Outcome.OK, second.error
    assert second.retry_reason is not None
    assert "reused connection" in second.retry_reason
    assert "Server disconnected without sending a response" in second.retry_reason
    assert second.connect_ms is not None  # the second try opened its own connection
    # The dead try took DROP_DELAY_S before the server dropped it; TTFT starts after it.
    assert second.ttft_ms is not None
    assert elapsed_ms - second.ttft_ms >= DROP_DELAY_S * 1000.0


async def test_every_probe_against_a_server_that_drops_reused_connections_is_ok(
    simulator_factory: Callable[..., SimulatorHandle],
) -> None:
    sim = simulator_factory(FAST_SCENARIO, connections="drop_reused")
    target = target_for(sim, "openai")
    async with httpx.AsyncClient() as client:
        outcomes = [
            (await run_probe(client, target, ARITHMETIC, timeout=10.0)).outcome for _ in range(6)
        ]
    assert outcomes == [Outcome.OK] * 6


async def test_a_server_that_closes_after_each_answer_gives_fifty_clean_probes(
    simulator_factory: Callable[..., SimulatorHandle],
) -> None:
    sim = simulator_factory(FAST_SCENARIO, connections="close_after")
    target = target_for(sim, "openai")
    async with httpx.AsyncClient() as client:
        found = [await run_probe(client, target, ARITHMETIC, timeout=10.0) for _ in range(50)]
    assert [r.outcome for r in found] == [Outcome.OK] * 50, [r.error for r in found if not r.ok]


@contextlib.asynccontextmanager
async def _slams_the_door() -> AsyncIterator[str]:
    """A loopback server that accepts each connection and closes it without reading."""

    async def slam(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.close()

    server = await asyncio.start_server(slam, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        server.close()
        await server.wait_closed()


async def test_a_fresh_connection_that_fails_is_a_connection_error_and_is_not_retried(
    client: httpx.AsyncClient,
) -> None:
    async with _slams_the_door() as url:
        reply = await ask(client, url, "openai")
    assert reply.outcome is Outcome.CONNECTION_ERROR
    assert reply.retry_reason is None


async def test_a_stream_broken_after_it_began_is_not_retried(
    simulator_factory: Callable[..., SimulatorHandle], client: httpx.AsyncClient
) -> None:
    sim = simulator_factory({"defaults": {"ttft": "1ms", "error": "disconnect"}})
    await ask(client, sim, "openai")
    reply = await ask(client, sim, "openai")
    assert reply.outcome is Outcome.STREAM_ERROR
    assert reply.retry_reason is None


async def test_the_retry_is_kept_in_the_stored_result(
    simulator_factory: Callable[..., SimulatorHandle], store: Store
) -> None:
    sim = simulator_factory(FAST_SCENARIO, connections="drop_reused")
    target = target_for(sim, "anthropic")
    async with httpx.AsyncClient() as client:
        probed = [await run_probe(client, target, ARITHMETIC, timeout=10.0) for _ in range(2)]
    results.record(store, probed)
    stored = results.latest(store, target.name)
    reasons = sorted((r.retry_reason or "") for r in stored)
    assert reasons[0] == ""
    assert "reused connection" in reasons[1]
    assert all(r.outcome is Outcome.OK for r in stored)
