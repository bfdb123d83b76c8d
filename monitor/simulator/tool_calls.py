"""The simulated model's tool calls: the call a tool canary asks for, or one broken on purpose.

A request that offers tools (each wire reads its own shape: `Wire.tools`) is answered with a
call of the tool the prompt asks for, its arguments from `monitor.canaries.solve.solve_tool_call`,
unless the scenario's `tool_faults` draw a failure:

    invalid_json     the arguments' JSON cut short (Gemini: `finishReason: MALFORMED_FUNCTION_CALL`)
    unknown_tool     a call of a tool that was not offered
    schema_mismatch  an argument of the wrong type (the first required one, else the first)
    no_tool_call     a text answer instead of a call

`tool_choice: none` (in any protocol's words) gets a text answer, as the real services give.
"""

from __future__ import annotations

import json
import random
import secrets
from dataclasses import dataclass, field
from typing import Any

from monitor.canaries.solve import solve_tool_call

TOOL_FAULTS = ("invalid_json", "unknown_tool", "schema_mismatch", "no_tool_call")
"""The kinds `tool_faults:` may name in a scenario."""

NO_CALL_TEXT = "I can answer that without a tool."


@dataclass(frozen=True, slots=True)
class ToolPlan:
    """The call the simulated model makes: the tool's name and the arguments' JSON text as it
    will stream them (`fault` says how they were broken, None when they are right)."""

    name: str
    arguments: str
    fault: str | None = None
    id: str = field(default_factory=lambda: secrets.token_hex(12))


def plan_tool_call(
    rng: random.Random,
    faults: dict[str, float],
    prompt: str,
    offered: list[tuple[str, dict[str, Any]]],
    choice: str,
) -> ToolPlan | None:
    """The call to make, or None for a text answer (no tools, `tool_choice` none, or the
    `no_tool_call` fault)."""
    if not offered or choice == "none":
        return None
    fault = _draw(rng, faults)
    if fault == "no_tool_call":
        return None
    name, arguments = solve_tool_call(prompt, offered, choice)
    if fault == "unknown_tool":
        taken = {n for n, _ in offered}
        name = f"{name}_v2"
        while name in taken:
            name += "_v2"
    elif fault == "schema_mismatch":
        arguments = _mismatched(dict(offered)[name.removesuffix("_v2")], arguments)
    text = json.dumps(arguments)
    if fault == "invalid_json":
        text = text[:-1]  # the closing brace never came
    return ToolPlan(name, text, fault)


def _draw(rng: random.Random, faults: dict[str, float]) -> str | None:
    if not faults:
        return None
    draw = rng.random()
    for kind, chance in faults.items():
        draw -= chance
        if draw < 0:
            return kind
    return None


_WRONG = {"string": 42, "integer": "forty-two", "number": "forty-two", "boolean": "yes"}


def _mismatched(schema: dict[str, Any], arguments: dict[str, Any]) -> dict[str, Any]:
    """`arguments` with one value of the wrong type; a tool without parameters gets one it
    does not declare (which only a schema with `additionalProperties: false` refuses)."""
    properties = schema.get("properties") or {}
    required = [k for k in schema.get("required") or [] if k in properties]
    keys = required or list(properties)
    if not keys:
        return {**arguments, "unexpected": 1}
    key = keys[0]
    spec = properties[key] if isinstance(properties[key], dict) else {}
    kind = spec.get("type")
    kind = kind[0] if isinstance(kind, list) and kind else kind
    wrong = _WRONG.get(str(kind), 42) if "enum" not in spec else "not-one-of-them"
    return {**arguments, key: wrong}
