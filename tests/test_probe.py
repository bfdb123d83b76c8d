"""The probe runner (monitor.probe): prompt, provider call, check, rate, cost, scrubbing."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime

import httpx
import pytest

from monitor.canaries.expect import Expect
from monitor.canaries.generators import GENERATORS, Generated
from monitor.config import CanaryConfig, Config
from monitor.config.schema import ProviderConfig
from monitor.probe import cost_usd, make_prompt, run_probe, tokens_per_s
from monitor.providers import Prompt, Provider, Reply
from monitor.result import Outcome
from monitor.secrets import Scrubber
from monitor.simulator import SimulatorHandle
from monitor.target import Price, Target


def _target(
    price: dict[str, dict[str, float]] | None = None, kind: str = "openai", key: str | None = None
) -> Target:
    prices = {model: Price(**p) for model, p in (price or {}).items()}
    return Target(
        name="p/m",
        provider="p",
        model="m",
        kind=kind,
        base_url="http://127.0.0.1:9",
        interval=60.0,
        timeout=30.0,
        api_key=key,
        price=prices.get("m"),
    )


@pytest.mark.parametrize(
    ("outcome", "tokens", "ttft", "latency", "rate"),
    [
        (Outcome.OK, 31, 100.0, 400.0, 100.0),  # 30 tokens after the first, in 0.3 s
        (Outcome.WRONG_ANSWER, 11, 50.0, 150.0, 100.0),
        (Outcome.OK, 2, 100.0, 120.0, 50.0),
        (Outcome.OK, 1, 100.0, 100.0, None),  # one token: no generation phase to time
        (Outcome.OK, 5, 100.0, 100.5, None),  # everything in one burst
        (Outcome.OK, None, 100.0, 400.0, None),
        (Outcome.OK, 31, None, 400.0, None),
        (Outcome.STREAM_ERROR, 31, 100.0, 400.0, None),  # a broken answer has no rate
    ],
)
def test_tokens_per_second_is_the_decode_rate_after_the_first_token(
    outcome: Outcome, tokens: int | None, ttft: float | None, latency: float, rate: float | None
) -> None:
    reply = Reply(outcome=outcome, output_tokens=tokens, ttft_ms=ttft, latency_ms=latency)
    assert tokens_per_s(reply) == rate


@pytest.mark.parametrize(
    ("price", "input_tokens", "output_tokens", "cost"),
    [
        ({"m": {"input": 0.15, "output": 0.60}}, 21, 2, 0.00000435),
        ({"m": {"input": 3.0, "output": 15.0}}, 1_000_000, 1_000_000, 18.0),
        ({"m": {"input": 3.0, "output": 15.0}}, None, 10, 0.00015),
        ({"m": {"input": 3.0, "output": 15.0}}, None, None, None),
        ({"m": {"input": 0.0, "output": 0.0}}, 21, 2, 0.0),
        (None, 21, 2, None),
    ],
)
def test_cost_comes_from_the_price_per_million_tokens(
    price: dict[str, dict[str, float]] | None,
    input_tokens: int | None,
    output_tokens: int | None,
    cost: float | None,
) -> None:
    reply = Reply(outcome=Outcome.OK, input_tokens=input_tokens, output_tokens=output_tokens)
    assert cost_usd(_target(price), reply) == (None if cost is None else pytest.approx(cost))


def test_a_fixed_canary_sends_its_own_prompt_and_check() -> None:
    canary = CanaryConfig(
        name="a",
        prompt="What is 2 + 2?",
        expect=Expect(equals="4"),
        system="Be terse.",
        max_tokens=8,
        temperature=0.5,
    )
    prompt, expect = make_prompt(canary, random.Random(1))
    assert (prompt.text, prompt.system, prompt.max_tokens, prompt.temperature) == (
        "What is 2 + 2?",
        "Be terse.",
        8,
        0.5,
    )
    assert expect == Expect(equals="4")


def test_a_generated_canary_sends_a_fresh_prompt_each_time() -> None:
    canary = CanaryConfig(name="g", generator="arithmetic")
    rng = random.Random(1)
    prompts = {make_prompt(canary, rng)[0].text for _ in range(20)}
    assert len(prompts) == 20


def test_a_generator_gets_the_room_its_answer_needs() -> None:
    canary = CanaryConfig(name="j", generator="json_echo", max_tokens=16)
    prompt, expect = make_prompt(canary, random.Random(1))
    assert prompt.max_tokens >= 48
    assert expect.json_schema is not None


# --- Against the simulator on loopback -----------------------------------------------------------

KINDS = ["openai", "anthropic", "gemini"]
KEY = "sk-proj-brownoutTEST0123456789abcdefghij"  # a fake key
ARITHMETIC = CanaryConfig(
    name="arithmetic",
    prompt="What is 17 * 23? Reply with the number only.",
    expect=Expect(equals="391"),
)
START = datetime(2026, 11, 28, 10, 0, 0, 123000, tzinfo=UTC)


def _sim_target(
    sim: SimulatorHandle, kind: str, *, price: dict[str, float] | None = None, key: str = KEY
) -> Target:
    config = Config(
        providers={
            kind: ProviderConfig(
                kind=kind,
                base_url=sim.base_url(kind),
                api_key=key,
                models=["sim-model"],
                price={"sim-model": Price(**price)} if price else {},
            )
        }
    )
    return config.targets()[0]


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as c:
        yield c


@pytest.mark.parametrize("kind", KINDS)
async def test_a_right_answer_is_ok(
    simulator: SimulatorHandle, client: httpx.AsyncClient, kind: str
) -> None:
    result = await run_probe(
        client, _sim_target(simulator, kind), ARITHMETIC, timeout=10, region="eu", now=lambda: START
    )
    assert result.outcome is Outcome.OK, result.error
    assert (result.quality_ok, result.answer, result.error) == (True, "391", None)
    assert (result.ts, result.region, result.canary) == (START, "eu", "arithmetic")
    assert (result.target, result.provider, result.model) == (
        f"{kind}/sim-model",
        kind,
        "sim-model",
    )
    assert result.http_status == 200
    assert result.ttft_ms is not None and result.latency_ms is not None
    assert result.latency_ms >= result.ttft_ms > 0
    assert result.input_tokens and result.output_tokens
    assert result.response_model


@pytest.mark.parametrize("kind", KINDS)
async def test_a_wrong_answer_is_wrong_answer_and_says_what_was_expected(
    simulator_factory: Callable[..., SimulatorHandle], client: httpx.AsyncClient, kind: str
) -> None:
    sim = simulator_factory({"defaults": {"ttft": "5ms", "answer": "wrong"}})
    result = await run_probe(client, _sim_target(sim, kind), ARITHMETIC, timeout=10)
    assert result.outcome is Outcome.WRONG_ANSWER
    assert result.quality_ok is False
    assert result.answer == "392"
    assert result.error is not None and "expected 391" in result.error
    assert result.ttft_ms is not None  # a wrong answer is still timed


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("generator", sorted(GENERATORS))
async def test_every_generated_canary_passes_on_a_healthy_provider(
    simulator: SimulatorHandle, client: httpx.AsyncClient, kind: str, generator: str
) -> None:
    canary = CanaryConfig(name=generator, generator=generator)
    result = await run_probe(
        client, _sim_target(simulator, kind), canary, timeout=10, rng=random.Random(generator)
    )
    assert result.outcome is Outcome.OK, (result.answer, result.error)


@pytest.mark.parametrize(
    ("fault", "outcome"),
    [
        ("overloaded", Outcome.OVERLOADED),
        ("rate_limited", Outcome.RATE_LIMITED),
        ("server_error", Outcome.SERVER_ERROR),
        ("mid_stream_error", Outcome.STREAM_ERROR),
    ],
)
@pytest.mark.parametrize("kind", KINDS)
async def test_a_failed_call_keeps_its_outcome_and_is_not_checked(
    simulator_factory: Callable[..., SimulatorHandle],
    client: httpx.AsyncClient,
    kind: str,
    fault: str,
    outcome: Outcome,
) -> None:
    sim = simulator_factory({"defaults": {"ttft": "5ms", "error": fault}})
    result = await run_probe(client, _sim_target(sim, kind), ARITHMETIC, timeout=10)
    assert result.outcome is outcome
    assert result.quality_ok is None
    assert result.tokens_per_s is None
    assert result.error


@pytest.mark.parametrize("kind", KINDS)
async def test_cost_comes_from_the_usage_the_provider_reported(
    simulator: SimulatorHandle, client: httpx.AsyncClient, kind: str
) -> None:
    target = _sim_target(simulator, kind, price={"input": 3.0, "output": 15.0})
    result = await run_probe(client, target, ARITHMETIC, timeout=10)
    assert result.input_tokens and result.output_tokens
    expected = (result.input_tokens * 3.0 + result.output_tokens * 15.0) / 1e6
    assert result.cost_usd == pytest.approx(expected)


async def test_a_key_echoed_by_a_401_is_scrubbed(
    simulator_factory: Callable[..., SimulatorHandle], client: httpx.AsyncClient
) -> None:
    sim = simulator_factory({"keys": ["sk-the-only-key-the-simulator-takes"]})  # a fake key
    result = await run_probe(
        client, _sim_target(sim, "openai"), ARITHMETIC, timeout=10, scrubber=Scrubber([KEY])
    )
    assert result.outcome is Outcome.AUTH_ERROR
    assert result.error is not None and "Incorrect API key" in result.error
    text = result.to_json()
    assert not any(KEY[i : i + 8] in text for i in range(len(KEY) - 7))


async def test_a_cancelled_probe_propagates_the_cancellation(
    simulator_factory: Callable[..., SimulatorHandle], client: httpx.AsyncClient
) -> None:
    sim = simulator_factory({"defaults": {"error": "hang"}})
    task = asyncio.create_task(
        run_probe(client, _sim_target(sim, "openai"), ARITHMETIC, timeout=60)
    )
    # Poll until the request has reached the simulator (its thread cannot set an asyncio.Event).
    while not sim.requests:  # noqa: ASYNC110
        await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


# --- brownout's own failures -------------------------------------------------------------------


class _Broken(Provider):
    kind = "broken"
    needs_key = False

    async def complete(
        self,
        client: httpx.AsyncClient,
        target: Target,
        prompt: Prompt,
        *,
        timeout: float,  # noqa: ASYNC109
    ) -> Reply:
        raise KeyError(f"bug while holding {target.api_key}")


class _Stuck(Provider):
    kind = "stuck"
    needs_key = False

    async def complete(
        self,
        client: httpx.AsyncClient,
        target: Target,
        prompt: Prompt,
        *,
        timeout: float,  # noqa: ASYNC109
    ) -> Reply:
        await asyncio.Event().wait()  # ignores its timeout: a provider bug
        raise AssertionError("unreachable")


async def test_a_bug_in_a_provider_becomes_an_outcome_logged_once_without_the_key(
    caplog: pytest.LogCaptureFixture, client: httpx.AsyncClient
) -> None:
    target = _target(kind="broken", key=KEY)
    scrubber = Scrubber([KEY])
    with caplog.at_level(logging.ERROR, logger="monitor.probe"):
        first = await run_probe(
            client, target, ARITHMETIC, timeout=1, scrubber=scrubber, provider=_Broken()
        )
        second = await run_probe(
            client, target, ARITHMETIC, timeout=1, scrubber=scrubber, provider=_Broken()
        )
    assert first.outcome is second.outcome is Outcome.BAD_RESPONSE
    assert first.error is not None and "KeyError" in first.error and "broken" in first.error
    assert len([r for r in caplog.records if "KeyError" in r.getMessage()]) == 1
    assert KEY[:12] not in caplog.text + first.to_json()


async def test_a_provider_that_overruns_its_timeout_is_a_timeout(
    client: httpx.AsyncClient,
) -> None:
    result = await run_probe(
        client, _target(kind="stuck"), ARITHMETIC, timeout=0.01, provider=_Stuck(), grace=0.01
    )
    assert result.outcome is Outcome.TIMEOUT
    assert result.error is not None and "overran" in result.error


async def test_a_bug_in_a_generator_becomes_an_outcome_not_a_crash(
    monkeypatch: pytest.MonkeyPatch, client: httpx.AsyncClient
) -> None:
    def boom(rng: random.Random) -> Generated:
        raise ZeroDivisionError("generator bug")

    monkeypatch.setitem(GENERATORS, "boom", boom)
    canary = CanaryConfig(name="boom", generator="boom")
    result = await run_probe(client, _target(), canary, timeout=1)
    assert result.outcome is Outcome.BAD_RESPONSE
    assert result.error is not None and "ZeroDivisionError: generator bug" in result.error
