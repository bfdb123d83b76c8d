"""Tool canaries over each wire protocol against the simulator: the streamed call is assembled,
checked, and each way it can break has its own word in `tool_check`."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest

from monitor.config import CanaryConfig
from monitor.probe import run_probe
from monitor.result import Outcome
from monitor.simulator import SimulatorHandle
from tests.factories import KINDS, target_for, tool_canary

FAULTS = ["invalid_json", "unknown_tool", "schema_mismatch", "no_tool_call"]


def _sim(factory: Callable[..., SimulatorHandle], **faults: float) -> SimulatorHandle:
    return factory({"defaults": {"ttft": "1ms", "tool_faults": faults}})


@pytest.mark.parametrize("kind", KINDS)
async def test_a_right_tool_call_is_ok_and_recorded_as_the_call(
    simulator_factory: Callable[..., SimulatorHandle], client: httpx.AsyncClient, kind: str
) -> None:
    sim = _sim(simulator_factory)
    result = await run_probe(client, target_for(sim, kind), tool_canary(), timeout=10)
    assert result.outcome is Outcome.OK, result
    assert result.quality_ok is True
    assert result.tool_check == "ok"
    assert result.answer is not None and result.answer.startswith("get_weather(")
    arguments = json.loads(result.answer.removeprefix("get_weather(").removesuffix(")"))
    assert arguments == {"city": "Paris", "unit": "celsius"}
    assert result.ttft_ms is not None and result.latency_ms is not None  # the call is output


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize("kind", KINDS)
async def test_each_broken_tool_call_has_its_own_word(
    simulator_factory: Callable[..., SimulatorHandle],
    client: httpx.AsyncClient,
    kind: str,
    fault: str,
) -> None:
    sim = _sim(simulator_factory, **{fault: 1.0})
    result = await run_probe(client, target_for(sim, kind), tool_canary(), timeout=10)
    assert result.outcome is Outcome.WRONG_ANSWER, result
    assert result.quality_ok is False
    assert result.tool_check == fault
    assert result.error


@pytest.mark.parametrize("kind", KINDS)
async def test_a_named_tool_choice_reaches_the_model_in_each_protocols_words(
    simulator_factory: Callable[..., SimulatorHandle], client: httpx.AsyncClient, kind: str
) -> None:
    canary = tool_canary(
        tool_choice="get_time",
        expect={"tool_call": {"name": "get_time", "arguments": {"city": "Paris"}}},
        prompt='Call get_time with city set to "Paris".',
    )
    result = await run_probe(client, target_for(_sim(simulator_factory), kind), canary, timeout=10)
    assert result.tool_check == "ok", result
    assert result.answer == 'get_time({"city": "Paris"})'


@pytest.mark.parametrize("kind", KINDS)
async def test_another_offered_tool_is_the_wrong_tool(
    simulator_factory: Callable[..., SimulatorHandle], client: httpx.AsyncClient, kind: str
) -> None:
    canary = tool_canary(tool_choice="get_time")  # forces get_time; get_weather is expected
    result = await run_probe(client, target_for(_sim(simulator_factory), kind), canary, timeout=10)
    assert result.outcome is Outcome.WRONG_ANSWER
    assert result.tool_check == "wrong_tool"


async def test_a_canary_without_tools_has_no_tool_check(
    simulator: SimulatorHandle, client: httpx.AsyncClient
) -> None:

    canary = CanaryConfig(name="a", prompt="What is 17 * 23?", expect={"number": 391})
    result = await run_probe(client, target_for(simulator, "openai"), canary, timeout=10)
    assert result.outcome is Outcome.OK
    assert result.tool_check is None
