"""Every built-in canary, fixed or generated, is answered right by the simulator over every
protocol (through `run_probe`, as the monitor asks it), and a wrong-answering model is caught."""

from __future__ import annotations

import random
from collections.abc import Callable

import httpx
import pytest

from monitor.canaries.defaults import DEFAULT_CANARIES
from monitor.canaries.generators import GENERATORS
from monitor.config import CanaryConfig
from monitor.probe import run_probe
from monitor.result import Outcome
from monitor.simulator import SimulatorHandle
from tests.factories import KINDS, target_for

CANARIES = [CanaryConfig.model_validate(c) for c in DEFAULT_CANARIES] + [
    CanaryConfig(name=f"generated_{name}", generator=name) for name in sorted(GENERATORS)
]


@pytest.mark.parametrize("canary", CANARIES, ids=[c.name for c in CANARIES])
@pytest.mark.parametrize("kind", KINDS)
async def test_the_simulator_answers_every_canary_right(
    simulator: SimulatorHandle, client: httpx.AsyncClient, kind: str, canary: CanaryConfig
) -> None:
    for seed in range(3):  # generated canaries: several fresh prompts each
        result = await run_probe(
            client, target_for(simulator, kind), canary, timeout=10, rng=random.Random(seed)
        )
        assert result.outcome is Outcome.OK, (result.answer, result.error)
        assert result.quality_ok is True


@pytest.mark.parametrize("canary", CANARIES, ids=[c.name for c in CANARIES])
async def test_a_model_answering_wrong_is_caught_on_every_canary(
    simulator_factory: Callable[..., SimulatorHandle],
    client: httpx.AsyncClient,
    canary: CanaryConfig,
) -> None:
    sim = simulator_factory({"defaults": {"ttft": "1ms", "answer": "wrong"}})
    result = await run_probe(client, target_for(sim, "openai"), canary, timeout=10)
    assert result.outcome is Outcome.WRONG_ANSWER, result.answer
    assert result.quality_ok is False
