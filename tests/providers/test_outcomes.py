"""Every outcome word, for every wire protocol, against the simulator on loopback."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import httpx
import pytest

from monitor.result import Outcome
from monitor.simulator import SimulatorHandle
from tests.factories import KINDS, ask

# scenario fault → outcome, per protocol where the real services differ
FAULTS: list[tuple[str, dict[str, Outcome]]] = [
    ("rate_limited", dict.fromkeys(KINDS, Outcome.RATE_LIMITED)),
    (
        "insufficient_quota",
        {
            "openai": Outcome.RATE_LIMITED,
            "anthropic": Outcome.CLIENT_ERROR,  # Anthropic's billing refusal is a 400
            "gemini": Outcome.RATE_LIMITED,
        },
    ),
    ("overloaded", dict.fromkeys(KINDS, Outcome.OVERLOADED)),
    ("server_error", dict.fromkeys(KINDS, Outcome.SERVER_ERROR)),
    ("api_error", dict.fromkeys(KINDS, Outcome.SERVER_ERROR)),
    ("auth", dict.fromkeys(KINDS, Outcome.AUTH_ERROR)),
    ("forbidden", dict.fromkeys(KINDS, Outcome.AUTH_ERROR)),
    ("bad_request", dict.fromkeys(KINDS, Outcome.CLIENT_ERROR)),
    ("mid_stream_error", dict.fromkeys(KINDS, Outcome.STREAM_ERROR)),
    ("mid_stream_overloaded", dict.fromkeys(KINDS, Outcome.OVERLOADED)),
    ("truncate", dict.fromkeys(KINDS, Outcome.STREAM_ERROR)),
    ("disconnect", dict.fromkeys(KINDS, Outcome.STREAM_ERROR)),
    ("garbage", dict.fromkeys(KINDS, Outcome.BAD_RESPONSE)),
    ("empty", dict.fromkeys(KINDS, Outcome.BAD_RESPONSE)),
    ("gzip_bomb", dict.fromkeys(KINDS, Outcome.BAD_RESPONSE)),  # cut at the size bound
]
CASES = [(fault, kind, outcomes[kind]) for fault, outcomes in FAULTS for kind in KINDS]


@pytest.mark.parametrize(("fault", "kind", "expected"), CASES)
async def test_each_fault_has_its_outcome(
    simulator_factory: Callable[..., SimulatorHandle],
    client: httpx.AsyncClient,
    fault: str,
    kind: str,
    expected: Outcome,
) -> None:
    sim = simulator_factory({"defaults": {"ttft": "1ms", "tokens_per_s": 0, "error": fault}})
    reply = await ask(client, sim, kind)
    assert reply.outcome is expected, reply
    assert reply.error
    assert reply.latency_ms is None


@pytest.mark.parametrize("kind", KINDS)
async def test_a_healthy_answer_is_ok(
    simulator: SimulatorHandle, client: httpx.AsyncClient, kind: str
) -> None:
    sim = simulator
    sim.set_scenario({"answers": {"17 \\* 23": "391"}, "defaults": {"ttft": "1ms"}})
    reply = await ask(client, sim, kind)
    assert (reply.outcome, reply.text, reply.http_status) == (Outcome.OK, "391", 200)
    assert reply.error is None
    assert reply.ttft_ms is not None and reply.latency_ms is not None
    assert reply.latency_ms >= reply.ttft_ms
    assert (reply.output_tokens, reply.tokens_estimated) == (1, False)
    assert reply.input_tokens is not None and reply.input_tokens > 0


@pytest.mark.parametrize("fault", ["hang", "no_headers"])
@pytest.mark.parametrize("kind", KINDS)
async def test_a_hung_provider_ends_as_timeout(
    simulator_factory: Callable[..., SimulatorHandle],
    client: httpx.AsyncClient,
    kind: str,
    fault: str,
) -> None:
    sim = simulator_factory({"defaults": {"error": fault}})
    reply = await ask(client, sim, kind, timeout=0.3)
    assert reply.outcome is Outcome.TIMEOUT
    assert reply.error == "no complete answer within 0.3s"


@pytest.mark.parametrize("kind", KINDS)
async def test_an_endless_stream_ends_as_timeout(
    simulator_factory: Callable[..., SimulatorHandle], client: httpx.AsyncClient, kind: str
) -> None:
    sim = simulator_factory(
        {"defaults": {"ttft": "1ms", "tokens_per_s": 50, "answer": "la " * 500}}
    )
    reply = await ask(client, sim, kind, timeout=0.3)
    assert reply.outcome is Outcome.TIMEOUT
    assert reply.ttft_ms is not None  # it did start answering


@pytest.mark.parametrize("stream", [True, False])
@pytest.mark.parametrize("fault", ["hang", "no_headers", None])
async def test_the_simulator_stops_answering_a_client_that_left(
    simulator_factory: Callable[..., SimulatorHandle], fault: str | None, stream: bool
) -> None:
    scenario = {"defaults": {"tokens_per_s": 5, "answer": "la " * 1000, "errors": {}}}
    if fault:
        scenario["defaults"]["errors"] = {fault: 1.0}
    sim = simulator_factory(scenario)
    body = {"model": "m", "stream": stream, "messages": [{"role": "user", "content": "hi"}]}
    async with httpx.AsyncClient() as client:
        with pytest.raises(TimeoutError):
            async with (
                asyncio.timeout(0.3),
                client.stream("POST", f"{sim.openai_url}/chat/completions", json=body) as reply,
            ):
                async for _ in reply.aiter_bytes():
                    pass
    # The server notices the departure; the counter lives in the server's thread, so it is
    # polled (a hang here ends at pytest-timeout).
    while sim.in_flight:  # noqa: ASYNC110
        await asyncio.sleep(0.01)


@pytest.mark.parametrize("kind", KINDS)
async def test_an_unknown_model_is_a_client_error(
    simulator_factory: Callable[..., SimulatorHandle], client: httpx.AsyncClient, kind: str
) -> None:
    sim = simulator_factory({"models": {"known": {}}})
    reply = await ask(client, sim, kind, model="unknown")
    assert (reply.outcome, reply.http_status) == (Outcome.CLIENT_ERROR, 404)
    assert "unknown" in (reply.error or "")


@pytest.mark.parametrize("kind", KINDS)
async def test_a_wrong_key_is_an_auth_error(
    simulator_factory: Callable[..., SimulatorHandle], client: httpx.AsyncClient, kind: str
) -> None:
    right = "sk-the-right-key-0000000000"  # a fake key
    sim = simulator_factory({"keys": [right]})
    assert (await ask(client, sim, kind, key=right)).outcome is Outcome.OK
    reply = await ask(client, sim, kind, key="sk-a-wrong-key-1111111111")
    assert reply.outcome is Outcome.AUTH_ERROR


@pytest.mark.parametrize("kind", KINDS)
async def test_nothing_listening_is_a_connection_error(
    client: httpx.AsyncClient, kind: str
) -> None:
    with socket_without_listener() as port:
        reply = await ask(client, f"http://127.0.0.1:{port}", kind)
    assert reply.outcome is Outcome.CONNECTION_ERROR
    assert reply.http_status is None


def socket_without_listener() -> _Reserved:
    return _Reserved()


class _Reserved:
    """A loopback port that is bound (so nothing else takes it) but not listening."""

    def __enter__(self) -> int:
        import socket

        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        port: int = self.sock.getsockname()[1]
        return port

    def __exit__(self, *exc: object) -> None:
        self.sock.close()
