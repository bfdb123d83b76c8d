"""A canary with `logprobs: K` asks an OpenAI-compatible target for the first output token's top
log-probabilities and keeps them, bounded, in the result; the other protocols have none."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from pydantic import ValidationError

from monitor.config import CanaryConfig, Config, ProviderConfig
from monitor.probe import run_probe
from monitor.providers.openai import first_top_logprobs
from monitor.result import Outcome
from monitor.simulator import SimulatorHandle

DRIFT = CanaryConfig(
    name="drift",
    prompt="What is the capital of France? Reply with one word.",
    expect={"equals": "Paris"},
    max_tokens=1,
    logprobs=5,
)
SCENARIO = {"answers": {"capital of France": "Paris"}, "defaults": {"ttft": "1ms"}}


def _config(sim: SimulatorHandle, kind: str) -> Config:
    provider = ProviderConfig(
        kind=kind, base_url=sim.base_url(kind), api_key="test-key-123456789", models=["m"]
    )
    return Config(providers={kind: provider})


async def test_an_openai_target_keeps_the_first_tokens_top_logprobs(
    simulator_factory: Callable[..., SimulatorHandle],
) -> None:
    sim = simulator_factory(SCENARIO)
    target = _config(sim, "openai").targets()[0]
    async with httpx.AsyncClient() as client:
        result = await run_probe(client, target, DRIFT, timeout=10)
    assert result.outcome is Outcome.OK and result.answer == "Paris"
    assert result.top_logprobs is not None and len(result.top_logprobs) == 5
    assert result.top_logprobs[0][0] == "Paris"
    assert result.to_dict()["top_logprobs"] == result.top_logprobs


@pytest.mark.parametrize("kind", ["anthropic", "gemini"])
async def test_a_protocol_without_logprobs_answers_the_same_canary_without_them(
    simulator_factory: Callable[..., SimulatorHandle], kind: str
) -> None:
    sim = simulator_factory(SCENARIO)
    target = _config(sim, kind).targets()[0]
    async with httpx.AsyncClient() as client:
        result = await run_probe(client, target, DRIFT, timeout=10)
    assert result.outcome is Outcome.OK and result.top_logprobs is None


def test_malformed_or_absent_logprobs_are_none_and_big_ones_are_bounded() -> None:
    assert first_top_logprobs(None) is None
    assert first_top_logprobs({"content": None, "refusal": None}) is None
    assert first_top_logprobs({"content": [{"token": "a", "top_logprobs": "x"}]}) is None
    bad = {"content": [{"token": "a", "top_logprobs": [{"token": "a", "logprob": "high"}]}]}
    assert first_top_logprobs(bad) is None
    many = [{"token": "t" * 100 + str(i), "logprob": -i / 10} for i in range(40)]
    pairs = first_top_logprobs({"content": [{"token": "a", "top_logprobs": many[::-1]}]})
    assert pairs is not None and len(pairs) == 20
    assert pairs[0] == ["t" * 32, 0.0] and all(len(t) == 32 for t, _ in pairs)


def test_logprobs_need_a_fixed_prompt() -> None:
    with pytest.raises(ValidationError, match="logprobs needs a fixed prompt"):
        CanaryConfig(name="x", generator="arithmetic", logprobs=5)
    with pytest.raises(ValidationError):
        CanaryConfig(name="x", prompt="p", expect={"equals": "p"}, logprobs=21)
