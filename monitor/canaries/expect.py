"""`Expect`: how a canary's answer is checked, in the words a canary is written with.

A fixed canary in the config says `expect: {number: 391}`; a generator returns the `Expect`
that checks its fresh prompt; `monitor.canaries.checks.check(expect, answer)` applies it.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from monitor.canaries.tools import ToolCallExpect

CHECKS = ("equals", "contains", "regex", "number", "one_of", "json_schema", "tool_call")


class Expect(BaseModel):
    """How a canary's answer is checked: exactly one of the checks, plus options."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    equals: str | int | float | None = None
    contains: str | None = None
    regex: str | None = None
    number: float | None = None
    one_of: list[str | int | float] | None = None
    json_schema: dict[str, Any] | None = None
    # A tool canary's check (the canary's `tools` must offer the tool): monitor.canaries.tools.
    tool_call: ToolCallExpect | None = None
    tolerance: float = Field(0.0, ge=0)
    case_sensitive: bool = False
    # The numbers the question states (`number` only): a reply that restates the question
    # ("571 * 817 is 466,507") is read past them to its answer.
    operands: list[float] | None = None

    @field_validator("equals", "one_of", mode="before")
    @classmethod
    def _no_booleans(cls, value: Any) -> Any:
        # YAML reads yes/no/true/false as booleans, which would quietly become 1 and 0 here.
        values = value if isinstance(value, list) else [value]
        if any(isinstance(v, bool) for v in values):
            raise ValueError('yes, no, true and false are booleans in YAML; quote them: "yes"')
        return value

    @model_validator(mode="after")
    def _exactly_one(self) -> Expect:
        given = [k for k in CHECKS if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(
                f"expect needs exactly one of {', '.join(CHECKS)}"
                + (f" (got {', '.join(given)})" if given else "")
            )
        if self.operands is not None and self.number is None:
            raise ValueError("operands go with a number check only")
        if self.regex is not None:
            try:
                re.compile(self.regex)
            except re.error as exc:
                raise ValueError(f"regex does not compile: {exc}") from exc
        if self.json_schema is not None:
            import jsonschema

            try:
                jsonschema.validators.validator_for(self.json_schema).check_schema(self.json_schema)
            except jsonschema.exceptions.SchemaError as exc:
                raise ValueError(f"json_schema is not a valid JSON Schema: {exc.message}") from exc
        return self
