"""The probe runner (monitor.probe): prompt, provider call, check, rate, cost, scrubbing."""

from __future__ import annotations

import random

import pytest

from monitor.config import CanaryConfig, Expect, Target
from monitor.config.schema import ProviderConfig
from monitor.probe import cost_usd, make_prompt, tokens_per_s
from monitor.providers import Reply
from monitor.result import Outcome


def _target(price: dict[str, dict[str, float]] | None = None, kind: str = "openai") -> Target:
    config = ProviderConfig.model_validate(
        {"kind": kind, "base_url": "http://127.0.0.1:9", "models": ["m"], "price": price or {}}
    )
    return Target("p/m", "p", "m", config)


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
