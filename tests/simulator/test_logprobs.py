"""The simulator's log-probabilities: OpenAI's real shape (the official SDK parses them), the
same distribution for the same model and prompt, another when a scenario puts other `weights`
behind the name."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import openai

from monitor.simulator import SimulatorHandle

KEY = "sk-sdk-test-0123456789abcdefghij"  # a fake key
QUESTION = "What is the capital of France? Reply with one word."
ANSWERING = {"answers": {"capital of France": "Paris"}, "defaults": {"ttft": "1ms"}}


def _first_token(sim: SimulatorHandle, **extra: Any) -> list[tuple[str, float]]:
    with openai.OpenAI(base_url=sim.openai_url, api_key=KEY, max_retries=0) as client:
        chunks = list(
            client.chat.completions.create(
                model="gpt-4o-mini",
                messages=[{"role": "user", "content": QUESTION}],
                stream=True,
                max_tokens=1,
                **extra,
            )
        )
    content = [c.choices[0] for c in chunks if c.choices and c.choices[0].delta.content]
    assert [c.delta.content for c in content] == ["Paris"]
    logprobs = content[0].logprobs
    if logprobs is None:
        return []
    assert logprobs.content is not None and logprobs.content[0].token == "Paris"
    return [(t.token, t.logprob) for t in logprobs.content[0].top_logprobs]


def test_a_streamed_answer_carries_top_logprobs_the_openai_sdk_parses(
    simulator_factory: Callable[..., SimulatorHandle],
) -> None:
    sim = simulator_factory(ANSWERING)
    top = _first_token(sim, logprobs=True, top_logprobs=5)
    assert len(top) == 5
    assert top[0][0] == "Paris"  # the answered token is the most likely one
    assert [lp for _, lp in top] == sorted((lp for _, lp in top), reverse=True)
    assert all(lp < 0 for _, lp in top)
    assert _first_token(sim) == []  # not asked: `logprobs: null`, as OpenAI sends


def test_the_same_weights_give_the_same_logprobs_and_other_weights_move_them(
    simulator_factory: Callable[..., SimulatorHandle],
) -> None:
    sim = simulator_factory(ANSWERING)
    first = _first_token(sim, logprobs=True, top_logprobs=5)
    assert _first_token(sim, logprobs=True, top_logprobs=5) == first
    sim.set_scenario({**ANSWERING, "defaults": {"ttft": "1ms", "weights": "q4_0"}})
    moved = _first_token(sim, logprobs=True, top_logprobs=5)
    assert moved[0][0] == "Paris"  # the same answer: only the distribution behind it changed
    assert moved != first


def test_logprob_noise_makes_each_request_differ_a_little(
    simulator_factory: Callable[..., SimulatorHandle],
) -> None:
    sim = simulator_factory({**ANSWERING, "defaults": {"ttft": "1ms", "logprob_noise": 0.05}})
    first = dict(_first_token(sim, logprobs=True, top_logprobs=3))
    second = dict(_first_token(sim, logprobs=True, top_logprobs=3))
    assert first != second
    assert abs(first["Paris"] - second["Paris"]) < 0.5


def test_a_whole_answer_carries_one_entry_per_token(
    simulator_factory: Callable[..., SimulatorHandle],
) -> None:
    sim = simulator_factory({"answers": {"count": "one two three"}, "defaults": {"ttft": "1ms"}})
    with openai.OpenAI(base_url=sim.openai_url, api_key=KEY, max_retries=0) as client:
        completion = client.chat.completions.create(
            model="gpt-4o-mini",
            messages=[{"role": "user", "content": "count"}],
            logprobs=True,
            top_logprobs=2,
        )
    logprobs = completion.choices[0].logprobs
    assert logprobs is not None and logprobs.content is not None
    assert [t.token for t in logprobs.content] == ["one", " two", " three"]
    assert all(len(t.top_logprobs) == 2 for t in logprobs.content)
