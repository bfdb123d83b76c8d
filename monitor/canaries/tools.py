"""Tool-call canaries: the tools a canary offers, the call it expects, and the check. Pure.

    tools = [Tool(name="get_weather", parameters={"type": "object", ...})]
    expect = ToolCallExpect(name="get_weather", arguments={"city": "Paris"})
    verdict = check_tool_call(tools, expect, [ToolCall("get_weather", '{"city": "Paris"}')])

A provider assembles the streamed call (`ToolCall`: the name and the arguments as the model
wrote them, a JSON text); the check says what went wrong in one word (`ToolVerdict.kind`), in
this order: `no_tool_call` (the model answered in text), `unknown_tool` (a name the canary did
not offer), `invalid_json` (the arguments do not parse as a JSON object), `schema_mismatch` (they
do not validate against the tool's declared `parameters`), `wrong_tool` (another offered tool
than the one expected), `wrong_arguments` (valid, but not the expected values or
`arguments_schema`).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

TOOL_CHECKS = (
    "ok",
    "no_tool_call",
    "unknown_tool",
    "invalid_json",
    "schema_mismatch",
    "wrong_tool",
    "wrong_arguments",
)
"""The words of a result's `tool_check` (docs/contract.md): `ok` or why the call failed."""

ToolCheck = Literal[
    "ok",
    "no_tool_call",
    "unknown_tool",
    "invalid_json",
    "schema_mismatch",
    "wrong_tool",
    "wrong_arguments",
]

ARGUMENTS_MAX_CHARS = 16 * 1024
"""A call's arguments are kept up to here (a canary's arguments are a few dozen characters)."""

_REASON_MAX = 200
_NAME = r"^[A-Za-z_][A-Za-z0-9_.\-]{0,63}$"  # what all three protocols accept as a tool name


def _valid_schema(schema: dict[str, Any]) -> dict[str, Any]:
    import jsonschema  # here, not at import: only canaries with a JSON Schema need it

    try:
        jsonschema.validators.validator_for(schema).check_schema(schema)
    except jsonschema.exceptions.SchemaError as exc:
        raise ValueError(f"not a valid JSON Schema: {exc.message}") from exc
    return schema


class Tool(BaseModel):
    """One tool a canary offers: its name, a description, and the JSON Schema of its arguments."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=_NAME)
    description: str = ""
    parameters: dict[str, Any] = Field(default_factory=lambda: {"type": "object", "properties": {}})

    @field_validator("parameters")
    @classmethod
    def _object_schema(cls, value: dict[str, Any]) -> dict[str, Any]:
        if value.get("type") != "object":
            raise ValueError("parameters must be a JSON Schema with type: object")
        return _valid_schema(value)


class ToolCallExpect(BaseModel):
    """The call a tool canary expects: the tool's `name`, and optionally the argument values
    (`arguments`: each key must be present with this value; others may be there too) and a
    JSON Schema the arguments must also meet (`arguments_schema`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=_NAME)
    arguments: dict[str, Any] | None = None
    arguments_schema: dict[str, Any] | None = None

    @field_validator("arguments_schema")
    @classmethod
    def _schema(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        return None if value is None else _valid_schema(value)


@dataclass(frozen=True, slots=True)
class ToolCall:
    """A tool call as the provider streamed it: the tool's name and the arguments' JSON text,
    assembled from its pieces. `malformed` says the provider itself reported a call it could
    not form (Gemini's `MALFORMED_FUNCTION_CALL`); `arguments` then holds what it said."""

    name: str
    arguments: str
    malformed: bool = False

    def render(self) -> str:
        """`name(arguments)`: how a result's `answer` records the call (a malformed call: what
        the provider said of it)."""
        return self.arguments if self.malformed else f"{self.name}({self.arguments})"


@dataclass(frozen=True, slots=True)
class ToolVerdict:
    """A tool check's result: `kind` is one of `TOOL_CHECKS`; `reason` is None when it passed."""

    kind: ToolCheck
    reason: str | None = None

    @property
    def ok(self) -> bool:
        return self.kind == "ok"


def check_tool_call(
    tools: list[Tool] | tuple[Tool, ...], expect: ToolCallExpect, calls: list[ToolCall], text: str
) -> ToolVerdict:
    """Whether the first tool call in `calls` is the one `expect` wants. Pure; never raises."""
    if not calls:
        said = _SPACES.sub(" ", text.strip())
        shown = said[:59] + "…" if len(said) > 60 else said
        return ToolVerdict(
            "no_tool_call", _bound(f"expected a call of {expect.name}, got text {shown!r}")
        )
    call = calls[0]
    offered = {t.name: t for t in tools}
    if call.malformed:
        return ToolVerdict(
            "invalid_json", _bound(f"the provider reported a malformed call: {call.arguments}")
        )
    tool = offered.get(call.name)
    if tool is None:
        return ToolVerdict(
            "unknown_tool", _bound(f"called {call.name!r}, which the canary did not offer")
        )
    try:
        arguments = json.loads(call.arguments) if call.arguments.strip() else {}
    except ValueError:
        return ToolVerdict(
            "invalid_json", _bound(f"the arguments of {call.name} are not JSON: {call.arguments!r}")
        )
    if not isinstance(arguments, dict):
        return ToolVerdict(
            "invalid_json", _bound(f"the arguments of {call.name} are not a JSON object")
        )
    problem = _schema_problem(tool.parameters, arguments)
    if problem is not None:
        return ToolVerdict(
            "schema_mismatch",
            _bound(f"the arguments of {call.name} do not match its parameters{problem}"),
        )
    if call.name != expect.name:
        return ToolVerdict("wrong_tool", f"expected a call of {expect.name}, got {call.name}")
    for key, want in (expect.arguments or {}).items():
        if key not in arguments:
            return ToolVerdict(
                "wrong_arguments", _bound(f"expected {key}={json.dumps(want)}, got no {key}")
            )
        if not _same(arguments[key], want):
            got = json.dumps(arguments[key])
            return ToolVerdict(
                "wrong_arguments", _bound(f"expected {key}={json.dumps(want)}, got {got}")
            )
    if expect.arguments_schema is not None:
        problem = _schema_problem(expect.arguments_schema, arguments)
        if problem is not None:
            return ToolVerdict(
                "wrong_arguments", _bound(f"the arguments do not match arguments_schema{problem}")
            )
    return ToolVerdict("ok")


_SPACES = re.compile(r"\s+")


def _same(got: Any, want: Any) -> bool:
    """Values compare as JSON does, strings without regard to case or surrounding space."""
    if isinstance(want, str) and isinstance(got, str):
        return got.strip().casefold() == want.strip().casefold()
    if isinstance(want, bool) or isinstance(got, bool):
        return got is want
    if isinstance(want, int | float) and isinstance(got, int | float):
        return float(got) == float(want)
    return bool(got == want)


def _schema_problem(schema: dict[str, Any], value: Any) -> str | None:
    import jsonschema

    validator = jsonschema.validators.validator_for(schema)(schema)
    error = jsonschema.exceptions.best_match(validator.iter_errors(value))
    if error is None:
        return None
    path = "/".join(str(p) for p in error.absolute_path)
    return f"{' at ' + path if path else ''}: {error.message}"


def _bound(text: str) -> str:
    return text if len(text) <= _REASON_MAX else text[: _REASON_MAX - 1] + "…"
