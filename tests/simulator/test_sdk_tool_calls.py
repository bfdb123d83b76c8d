"""The official SDKs (openai, anthropic, google-genai) assemble the simulator's streamed tool
calls, and read its broken ones as the broken calls they are: the simulator's tool-call shapes
are the real ones, so brownout's readers, tested against it, read the real services."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import anthropic
import openai
import pytest
from google import genai
from google.genai import types

from monitor.simulator import SimulatorHandle
from tests.factories import TIME_TOOL, WEATHER_TOOL

KEY = "sk-sdk-test-0123456789abcdefghij"  # a fake key
PROMPT = 'Call get_weather with city set to "Paris" and unit set to "celsius".'
PARIS = {"city": "Paris", "unit": "celsius"}


def _sim(factory: Callable[..., SimulatorHandle], fault: str | None = None) -> SimulatorHandle:
    faults = {fault: 1.0} if fault else {}
    return factory({"defaults": {"ttft": "1ms", "tool_faults": faults}})


def _openai_tools() -> list[Any]:
    return [
        {"type": "function", "function": {"name": t["name"], "parameters": t["parameters"]}}
        for t in (WEATHER_TOOL, TIME_TOOL)
    ]


def _openai_stream(sim: SimulatorHandle, **options: Any) -> Any:
    with (
        openai.OpenAI(base_url=sim.openai_url, api_key=KEY, max_retries=0) as client,
        client.chat.completions.stream(
            model="gpt-4o-mini",
            messages=[{"role": "user", "content": PROMPT}],
            tools=_openai_tools(),
            **options,
        ) as stream,
    ):
        events = list(stream)
        return stream.get_final_completion(), events


def test_openai_sdk_assembles_a_streamed_tool_call(
    simulator_factory: Callable[..., SimulatorHandle],
) -> None:
    completion, events = _openai_stream(_sim(simulator_factory))
    choice = completion.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content is None
    (call,) = choice.message.tool_calls
    assert call.type == "function" and call.id.startswith("call_")
    assert call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == PARIS
    pieces = [e.arguments_delta for e in events if e.type == "tool_calls.function.arguments.delta"]
    assert len(pieces) > 2  # the arguments came in pieces, as the real service streams them


def test_openai_sdk_is_told_which_tool_to_call_in_its_own_words(
    simulator_factory: Callable[..., SimulatorHandle],
) -> None:
    named = {"type": "function", "function": {"name": "get_time"}}
    completion, _ = _openai_stream(_sim(simulator_factory), tool_choice=named)
    assert completion.choices[0].message.tool_calls[0].function.name == "get_time"
    completion, _ = _openai_stream(_sim(simulator_factory), tool_choice="none")
    assert completion.choices[0].message.tool_calls is None
    assert completion.choices[0].message.content


def test_openai_sdk_gets_broken_json_from_the_invalid_json_fault(
    simulator_factory: Callable[..., SimulatorHandle],
) -> None:
    completion, _ = _openai_stream(_sim(simulator_factory, "invalid_json"))
    arguments = completion.choices[0].message.tool_calls[0].function.arguments
    with pytest.raises(ValueError):
        json.loads(arguments)


def _anthropic_stream(sim: SimulatorHandle, **options: Any) -> anthropic.types.Message:
    tools: Any = [
        {"name": t["name"], "input_schema": t["parameters"]} for t in (WEATHER_TOOL, TIME_TOOL)
    ]
    with (
        anthropic.Anthropic(base_url=sim.url, api_key=KEY, max_retries=0) as client,
        client.messages.stream(
            model="claude-haiku-4-5",
            max_tokens=64,
            messages=[{"role": "user", "content": PROMPT}],
            tools=tools,
            **options,
        ) as stream,
    ):
        return stream.get_final_message()


def test_anthropic_sdk_assembles_a_streamed_tool_use_block(
    simulator_factory: Callable[..., SimulatorHandle],
) -> None:
    message = _anthropic_stream(_sim(simulator_factory))
    assert message.stop_reason == "tool_use"
    (block,) = message.content
    assert block.type == "tool_use" and block.id.startswith("toolu_")
    assert block.name == "get_weather"
    assert block.input == PARIS


@pytest.mark.parametrize(
    ("fault", "name", "city"),
    [("unknown_tool", "get_weather_v2", "Paris"), ("schema_mismatch", "get_weather", 42)],
)
def test_anthropic_sdk_reads_the_broken_call_the_fault_makes(
    simulator_factory: Callable[..., SimulatorHandle], fault: str, name: str, city: object
) -> None:
    message = _anthropic_stream(_sim(simulator_factory, fault))
    block = message.content[0]
    assert block.type == "tool_use"
    assert block.name == name
    assert isinstance(block.input, dict) and block.input["city"] == city


def test_anthropic_sdk_is_told_which_tool_to_call_in_its_own_words(
    simulator_factory: Callable[..., SimulatorHandle],
) -> None:
    message = _anthropic_stream(
        _sim(simulator_factory), tool_choice={"type": "tool", "name": "get_time"}
    )
    assert message.content[0].type == "tool_use" and message.content[0].name == "get_time"
    message = _anthropic_stream(_sim(simulator_factory), tool_choice={"type": "none"})
    assert message.content[0].type == "text" and message.stop_reason == "end_turn"


def _genai_stream(
    sim: SimulatorHandle, mode: str = "AUTO", allowed: list[str] | None = None
) -> list[types.GenerateContentResponse]:
    options = types.HttpOptions(base_url=sim.url, api_version="v1beta")
    client = genai.Client(api_key="AIza-sdk-test-0123456789abcdefghij", http_options=options)
    declarations = [
        types.FunctionDeclaration(name=t["name"], parameters_json_schema=t["parameters"])
        for t in (WEATHER_TOOL, TIME_TOOL)
    ]
    config = types.GenerateContentConfig(
        tools=[types.Tool(function_declarations=declarations)],
        tool_config=types.ToolConfig(
            function_calling_config=types.FunctionCallingConfig(
                mode=types.FunctionCallingConfigMode(mode), allowed_function_names=allowed
            )
        ),
    )
    return list(
        client.models.generate_content_stream(
            model="gemini-2.5-flash", contents=PROMPT, config=config
        )
    )


def test_google_genai_reads_a_function_call_part(
    simulator_factory: Callable[..., SimulatorHandle],
) -> None:
    chunks = _genai_stream(_sim(simulator_factory))
    calls = [call for chunk in chunks for call in chunk.function_calls or []]
    assert [(c.name, c.args) for c in calls] == [("get_weather", PARIS)]
    assert (
        chunks[-1].candidates and chunks[-1].candidates[0].finish_reason == types.FinishReason.STOP
    )


def test_google_genai_is_told_which_function_to_call_in_its_own_words(
    simulator_factory: Callable[..., SimulatorHandle],
) -> None:
    chunks = _genai_stream(_sim(simulator_factory), "ANY", ["get_time"])
    assert [c.name for chunk in chunks for c in chunk.function_calls or []] == ["get_time"]
    chunks = _genai_stream(_sim(simulator_factory), "NONE")
    assert not any(chunk.function_calls for chunk in chunks)
    assert "".join(chunk.text or "" for chunk in chunks)


def test_google_genai_sees_a_malformed_call_for_the_invalid_json_fault(
    simulator_factory: Callable[..., SimulatorHandle],
) -> None:
    chunks = _genai_stream(_sim(simulator_factory, "invalid_json"))
    last = chunks[-1].candidates[0] if chunks[-1].candidates else None
    assert last is not None
    assert last.finish_reason == types.FinishReason.MALFORMED_FUNCTION_CALL
    # The service quotes the call in `finishMessage`; google-genai keeps it on Vertex only.
    assert not any(chunk.function_calls for chunk in chunks)
