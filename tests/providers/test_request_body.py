"""A provider's `body:` option is merged into every request it sends, over the real wire."""

from __future__ import annotations

import httpx

from monitor.config import Config, ProviderConfig
from monitor.providers import provider_for
from monitor.providers.base import Prompt, merge_body
from monitor.result import Outcome
from monitor.simulator import SimulatorHandle
from monitor.target import Target


def test_nested_mappings_merge_and_other_values_replace() -> None:
    base = {"generationConfig": {"maxOutputTokens": 16, "temperature": 0}, "stream": True}
    extra = {"generationConfig": {"thinkingConfig": {"thinkingBudget": 0}}, "stream": False}
    assert merge_body(base, extra) == {
        "generationConfig": {
            "maxOutputTokens": 16,
            "temperature": 0,
            "thinkingConfig": {"thinkingBudget": 0},
        },
        "stream": False,
    }
    assert base["stream"] is True  # the original is left alone


def _target(sim: SimulatorHandle, kind: str, body: dict[str, object]) -> Target:
    config = ProviderConfig(
        kind=kind,
        base_url=sim.base_url(kind),
        api_key="test-key-123456789",
        models=["m"],
        body=body,
    )
    return Config(providers={kind: config}).targets()[0]


async def test_gemini_keeps_its_output_bound_when_body_adds_a_thinking_budget(
    simulator: SimulatorHandle,
) -> None:
    target = _target(
        simulator, "gemini", {"generationConfig": {"thinkingConfig": {"thinkingBudget": 0}}}
    )
    async with httpx.AsyncClient() as client:
        reply = await provider_for("gemini").complete(
            client, target, Prompt("Say OK", max_tokens=16), timeout=10
        )
    assert reply.outcome is Outcome.OK
    assert simulator.requests[-1]["max_tokens"] == 16


async def test_a_body_value_replaces_the_one_brownout_sends(simulator: SimulatorHandle) -> None:
    target = _target(simulator, "openai", {"max_tokens": 5})
    async with httpx.AsyncClient() as client:
        reply = await provider_for("openai").complete(
            client, target, Prompt("Say OK", max_tokens=16), timeout=10
        )
    assert reply.outcome is Outcome.OK
    assert simulator.requests[-1]["max_tokens"] == 5
