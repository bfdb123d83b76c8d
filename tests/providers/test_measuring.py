"""What the providers measure: TTFT from the request written to the first real token, latency to
the end, connection setup apart, tokens from usage (estimated only when absent), bounds on size."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from typing import Any

import httpcore
import httpx
import pytest

from monitor.providers.stream import TEXT_MAX_CHARS
from monitor.result import Outcome
from monitor.simulator import SimulatorHandle
from tests.factories import KINDS, ask


@pytest.mark.parametrize("kind", KINDS)
async def test_the_first_token_is_the_first_text_not_the_first_event(
    simulator_factory: Callable[..., SimulatorHandle], client: httpx.AsyncClient, kind: str
) -> None:
    # OpenAI's empty role chunk, Anthropic's message_start and ping arrive at once; text at 200 ms.
    sim = simulator_factory({"defaults": {"ttft": "200ms", "tokens_per_s": 0}})
    reply = await ask(client, sim, kind)
    assert reply.outcome is Outcome.OK
    assert reply.ttft_ms is not None and reply.ttft_ms >= 150


@pytest.mark.parametrize("kind", ["openai", "anthropic"])
async def test_the_first_chunk_is_the_first_event_even_when_it_holds_no_text(
    simulator_factory: Callable[..., SimulatorHandle], client: httpx.AsyncClient, kind: str
) -> None:
    # OpenTelemetry times the first chunk of the stream; brownout's TTFT the first text.
    sim = simulator_factory({"defaults": {"ttft": "200ms", "tokens_per_s": 0}})
    reply = await ask(client, sim, kind)
    assert reply.first_chunk_ms is not None and reply.ttft_ms is not None
    assert reply.ttft_ms - reply.first_chunk_ms >= 150


@pytest.mark.parametrize("kind", KINDS)
async def test_every_event_of_the_stream_is_a_chunk_with_its_gap_to_the_one_before(
    simulator_factory: Callable[..., SimulatorHandle], client: httpx.AsyncClient, kind: str
) -> None:
    sim = simulator_factory(
        {"answers": {"Count": "one two three four five"}, "defaults": {"ttft": "50ms"}}
    )
    reply = await ask(client, sim, kind, prompt="Count from 1 to 5.", max_tokens=16)
    assert reply.outcome in (Outcome.OK, Outcome.WRONG_ANSWER)
    assert reply.first_chunk_ms is not None and reply.last_chunk_ms is not None
    assert reply.ttft_ms is not None and reply.first_chunk_ms <= reply.ttft_ms
    gaps = reply.extra["chunk_gaps_s"]
    assert reply.chunks == len(gaps) + 1 >= 3
    assert sum(gaps) * 1000 == pytest.approx(reply.last_chunk_ms - reply.first_chunk_ms, abs=0.01)
    assert reply.duration_ms is not None and reply.duration_ms >= reply.last_chunk_ms


async def test_a_refused_request_has_no_chunks_but_a_duration(
    simulator_factory: Callable[..., SimulatorHandle], client: httpx.AsyncClient
) -> None:
    sim = simulator_factory({"defaults": {"error": "rate_limited"}})
    reply = await ask(client, sim, "openai")
    assert reply.outcome is Outcome.RATE_LIMITED
    assert (reply.chunks, reply.first_chunk_ms, reply.last_chunk_ms) == (0, None, None)
    assert reply.duration_ms is not None and reply.duration_ms > 0


@pytest.mark.parametrize("kind", KINDS)
async def test_connect_ms_is_reported_only_by_the_probe_that_opened_the_connection(
    simulator: SimulatorHandle, client: httpx.AsyncClient, kind: str
) -> None:
    first = await ask(client, simulator, kind)
    second = await ask(client, simulator, kind)
    assert first.connect_ms is not None and first.connect_ms >= 0
    assert second.connect_ms is None


class _SlowConnect(httpcore.AsyncNetworkBackend):
    """Real sockets, but opening a connection takes 300 ms longer (a far or slow network)."""

    def __init__(self) -> None:
        self._real = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's interface)
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        await asyncio.sleep(0.3)
        return await self._real.connect_tcp(host, port, timeout, local_address, socket_options)

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        return await self._real.connect_unix_socket(path, timeout, socket_options)

    async def sleep(self, seconds: float) -> None:
        await self._real.sleep(seconds)


@pytest.mark.parametrize("kind", KINDS)
async def test_connection_setup_is_reported_apart_and_not_counted_in_ttft(
    simulator_factory: Callable[..., SimulatorHandle], kind: str
) -> None:
    sim = simulator_factory({"defaults": {"ttft": "100ms", "tokens_per_s": 0}})
    transport = httpx.AsyncHTTPTransport()
    transport._pool._network_backend = _SlowConnect()  # the one seam httpx offers for this
    async with httpx.AsyncClient(transport=transport) as slow:
        started = time.perf_counter()
        reply = await ask(slow, sim, kind)
        whole_ms = (time.perf_counter() - started) * 1000
    assert reply.outcome is Outcome.OK
    assert reply.connect_ms is not None and reply.connect_ms >= 290
    assert reply.ttft_ms is not None and reply.ttft_ms >= 90
    # The connection is set up before the request is written, and the whole call spans both:
    # a TTFT that counted the set-up could not fit beside it, however loaded the machine is.
    assert reply.ttft_ms <= whole_ms - reply.connect_ms


async def test_waiting_for_a_pooled_connection_does_not_count_as_ttft(
    simulator_factory: Callable[..., SimulatorHandle],
) -> None:
    sim = simulator_factory({"defaults": {"ttft": "300ms", "tokens_per_s": 0}})
    limits = httpx.Limits(max_connections=1)
    async with httpx.AsyncClient(limits=limits) as one_connection:
        started = time.perf_counter()
        first, second = await asyncio.gather(
            ask(one_connection, sim, "openai"), ask(one_connection, sim, "openai")
        )
        whole_ms = (time.perf_counter() - started) * 1000
    # One connection: the later request is written only once the earlier answer has ended, so
    # its TTFT fits in what is left of the whole after the earlier one's latency. Timed from its
    # call (the wait for the connection included), it would not.
    assert first.ttft_ms is not None and second.ttft_ms is not None
    assert first.latency_ms is not None and second.latency_ms is not None
    assert first.ttft_ms <= whole_ms - second.latency_ms
    assert second.ttft_ms <= whole_ms - first.latency_ms


@pytest.mark.parametrize("kind", KINDS)
async def test_latency_runs_to_the_end_of_the_answer(
    simulator_factory: Callable[..., SimulatorHandle], client: httpx.AsyncClient, kind: str
) -> None:
    # Ten tokens at 50/s: the last arrives 9 gaps of 20 ms after the first.
    sim = simulator_factory(
        {"defaults": {"ttft": "20ms", "tokens_per_s": 50, "answer": "a b c d e f g h i j"}}
    )
    reply = await ask(client, sim, kind)
    assert reply.outcome is Outcome.OK and reply.text == "a b c d e f g h i j"
    assert reply.ttft_ms is not None and reply.latency_ms is not None
    assert reply.latency_ms - reply.ttft_ms >= 150
    assert reply.output_tokens == 10


@pytest.mark.parametrize("kind", ["openai", "anthropic"])
async def test_keepalives_while_the_model_thinks_are_skipped(
    simulator_factory: Callable[..., SimulatorHandle], client: httpx.AsyncClient, kind: str
) -> None:
    # OpenRouter sends `: OPENROUTER PROCESSING` comment lines; Anthropic sends ping events.
    sim = simulator_factory({"defaults": {"ttft": "200ms", "keepalive": "20ms", "answer": "391"}})
    reply = await ask(client, sim, kind)
    assert (reply.outcome, reply.text) == (Outcome.OK, "391")
    assert reply.ttft_ms is not None and reply.ttft_ms >= 150


@pytest.mark.parametrize("kind", ["openai", "gemini"])  # Anthropic always sends usage
async def test_tokens_are_estimated_when_the_provider_reports_no_usage(
    simulator_factory: Callable[..., SimulatorHandle], client: httpx.AsyncClient, kind: str
) -> None:
    sim = simulator_factory({"defaults": {"usage": False, "answer": "twelve chars"}})
    reply = await ask(client, sim, kind)
    assert reply.outcome is Outcome.OK
    assert (reply.output_tokens, reply.tokens_estimated) == (3, True)
    assert reply.input_tokens is not None and reply.input_tokens > 0


async def test_anthropic_reports_usage_even_where_a_scenario_turns_it_off(
    simulator_factory: Callable[..., SimulatorHandle], client: httpx.AsyncClient
) -> None:
    sim = simulator_factory({"defaults": {"usage": False, "answer": "twelve chars"}})
    reply = await ask(client, sim, "anthropic")
    assert reply.outcome is Outcome.OK
    assert reply.tokens_estimated is False and reply.output_tokens is not None


@pytest.mark.parametrize("kind", KINDS)
async def test_an_answer_running_past_the_bound_is_cut_and_a_stream_error(
    simulator_factory: Callable[..., SimulatorHandle], client: httpx.AsyncClient, kind: str
) -> None:
    sim = simulator_factory({"defaults": {"tokens_per_s": 0, "answer": "word " * 30_000}})
    reply = await ask(client, sim, kind, max_tokens=100_000)
    assert len(reply.text) == TEXT_MAX_CHARS
    assert reply.outcome is Outcome.STREAM_ERROR
    assert reply.error == "the reply passed 64K characters of answer before the end of the answer"


@pytest.mark.parametrize("kind", KINDS)
async def test_an_answer_cut_at_max_tokens_is_still_an_answer(
    simulator_factory: Callable[..., SimulatorHandle], client: httpx.AsyncClient, kind: str
) -> None:
    sim = simulator_factory({"defaults": {"answer": "one two three four five"}})
    reply = await ask(client, sim, kind, max_tokens=2)
    assert (reply.outcome, reply.text, reply.output_tokens) == (Outcome.OK, "one two", 2)


@pytest.mark.parametrize("kind", KINDS)
async def test_the_answering_model_is_recorded(
    simulator_factory: Callable[..., SimulatorHandle], client: httpx.AsyncClient, kind: str
) -> None:
    sim = simulator_factory(
        {"models": {"m": {"response_model": "m-2025-01-01", "system_fingerprint": "fp_1"}}}
    )
    reply = await ask(client, sim, kind, model="m")
    assert reply.response_model == "m-2025-01-01"
    assert reply.system_fingerprint == ("fp_1" if kind == "openai" else None)


async def test_a_gemini_model_may_be_named_with_its_models_prefix(
    simulator_factory: Callable[..., SimulatorHandle], client: httpx.AsyncClient
) -> None:
    sim = simulator_factory({"models": {"gemini-2.5-flash": {}}})
    reply = await ask(client, sim, "gemini", model="models/gemini-2.5-flash")
    assert reply.outcome is Outcome.OK


async def test_phases_follow_the_simulator_clock(
    simulator_factory: Callable[..., SimulatorHandle], client: httpx.AsyncClient
) -> None:
    sim = simulator_factory(
        {
            "models": {
                "m": {
                    "phases": [
                        {"until": "5m"},
                        {"until": "10m", "error": "overloaded"},
                        {"response_model": "m-swapped"},
                    ]
                }
            }
        }
    )
    assert (await ask(client, sim, "openai", model="m")).outcome is Outcome.OK
    sim.advance(301)
    assert (await ask(client, sim, "openai", model="m")).outcome is Outcome.OVERLOADED
    sim.advance(300)
    assert (await ask(client, sim, "openai", model="m")).response_model == "m-swapped"
    sim.set_scenario({"models": {"m": {"error": "rate_limited"}}})
    assert (await ask(client, sim, "openai", model="m")).outcome is Outcome.RATE_LIMITED
