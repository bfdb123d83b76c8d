"""The tool-call check names each way a call goes wrong apart, and the config refuses tool
canaries that cannot be checked."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from monitor.canaries.tools import Tool, ToolCall, ToolCallExpect, check_tool_call
from monitor.config import CanaryConfig
from tests.factories import TIME_TOOL, WEATHER_TOOL, tool_canary

TOOLS = [Tool.model_validate(WEATHER_TOOL), Tool.model_validate(TIME_TOOL)]
PARIS = ToolCallExpect(name="get_weather", arguments={"city": "Paris", "unit": "celsius"})

CASES: list[tuple[str, list[ToolCall], str]] = [
    ("a right call", [ToolCall("get_weather", '{"city": "Paris", "unit": "celsius"}')], "ok"),
    (
        "strings compare without case",
        [ToolCall("get_weather", '{"city": " PARIS", "unit": "celsius"}')],
        "ok",
    ),
    ("text and no call", [], "no_tool_call"),
    ("a name not offered", [ToolCall("get_wether", '{"city": "Paris"}')], "unknown_tool"),
    (
        "arguments cut short",
        [ToolCall("get_weather", '{"city": "Paris", "unit": "cel')],
        "invalid_json",
    ),
    ("arguments that are a list", [ToolCall("get_weather", '["Paris"]')], "invalid_json"),
    (
        "a call the provider could not form",
        [ToolCall("", "Malformed function call: x(", malformed=True)],
        "invalid_json",
    ),
    (
        "a number for a string",
        [ToolCall("get_weather", '{"city": 42, "unit": "celsius"}')],
        "schema_mismatch",
    ),
    (
        "a required argument missing",
        [ToolCall("get_weather", '{"city": "Paris"}')],
        "schema_mismatch",
    ),
    (
        "an argument not declared",
        [ToolCall("get_weather", '{"city": "Paris", "unit": "celsius", "x": 1}')],
        "schema_mismatch",
    ),
    ("no arguments at all", [ToolCall("get_weather", "")], "schema_mismatch"),
    ("another offered tool", [ToolCall("get_time", '{"city": "Paris"}')], "wrong_tool"),
    (
        "valid but other values",
        [ToolCall("get_weather", '{"city": "Lyon", "unit": "celsius"}')],
        "wrong_arguments",
    ),
]


@pytest.mark.parametrize(("case", "calls", "kind"), CASES, ids=[c[0] for c in CASES])
def test_each_tool_call_gets_its_word(case: str, calls: list[ToolCall], kind: str) -> None:
    verdict = check_tool_call(TOOLS, PARIS, calls, "It is sunny in Paris.")
    assert verdict.kind == kind
    assert verdict.ok is (kind == "ok")
    assert (verdict.reason is None) is (kind == "ok")


def test_arguments_schema_is_checked_after_the_values() -> None:
    expect = ToolCallExpect(
        name="get_weather",
        arguments={"city": "Paris"},
        arguments_schema={"properties": {"unit": {"const": "fahrenheit"}}},
    )
    call = ToolCall("get_weather", '{"city": "Paris", "unit": "celsius"}')
    verdict = check_tool_call(TOOLS, expect, [call], "")
    assert verdict.kind == "wrong_arguments"
    assert verdict.reason and "arguments_schema" in verdict.reason


def test_a_huge_reply_gives_a_bounded_reason() -> None:
    verdict = check_tool_call(TOOLS, PARIS, [ToolCall("get_weather", "{" + "x" * 10_000)], "")
    assert verdict.kind == "invalid_json"
    assert verdict.reason is not None and len(verdict.reason) <= 200


BAD_CANARIES: list[tuple[dict[str, Any], str]] = [
    ({"tools": []}, "names 'get_weather', which tools do not offer"),
    ({"expect": {"number": 391}}, "a canary with tools checks the call"),
    ({"tool_choice": "get_wind"}, "tool_choice must be auto, required, none"),
    ({"tool_choice": "none"}, "tool_choice none forbids"),
    ({"tools": [WEATHER_TOOL, WEATHER_TOOL]}, "tools named more than once: get_weather"),
    ({"tools": [{**WEATHER_TOOL, "parameters": {"type": "string"}}]}, "type: object"),
    (
        {"tools": [{**WEATHER_TOOL, "parameters": {"type": "object", "required": 5}}]},
        "not a valid JSON Schema",
    ),
    ({"tools": [{**WEATHER_TOOL, "name": "get weather"}]}, "should match pattern"),
    ({"tools": [{**WEATHER_TOOL, "strict": True}]}, "Extra inputs are not permitted"),
]


@pytest.mark.parametrize(("change", "message"), BAD_CANARIES)
def test_a_tool_canary_that_cannot_be_checked_is_refused(
    change: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        tool_canary(**change)


def test_a_generated_canary_offers_no_tools() -> None:

    with pytest.raises(ValidationError, match="a generated canary offers no tools"):
        CanaryConfig(name="g", generator="arithmetic", tools=[WEATHER_TOOL])
