"""Scenario files: what the simulator does, per model and over time. See docs/simulator.md.

    scenario = load_scenario("scenarios/trouble.yaml")   # or Scenario.from_dict({...})
    behaviour = scenario.behaviour("gpt-4o-mini", elapsed=420.0)   # None: unknown model

A model's behaviour is the scenario's `defaults`, then the model's own settings, then the phase
that holds at `elapsed` seconds since the simulator started (the first phase whose `until` lies
ahead; the last phase holds after that, or the timeline repeats every `cycle`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path
from types import MappingProxyType
from typing import Annotated, Any

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from monitor.durations import parse_duration
from monitor.errors import UsageError
from monitor.simulator.faults import Fault
from monitor.simulator.tool_calls import TOOL_FAULTS

MAX_SCENARIO_BYTES = 1024 * 1024

Seconds = Annotated[float, BeforeValidator(parse_duration)]

ERROR_KINDS = tuple(fault.value for fault in Fault)  # the kinds `errors:` may name


class _Spec(BaseModel):
    """One layer of settings; every field optional so layers merge. Unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    ttft: Seconds | None = None
    tokens_per_s: float | None = Field(None, ge=0)
    jitter: float | None = Field(None, ge=0)
    spike_rate: float | None = Field(None, ge=0, le=1)
    spike: Seconds | None = None
    answer: str | None = None
    wrong_rate: float | None = Field(None, ge=0, le=1)
    response_model: str | None = None
    system_fingerprint: str | None = None
    errors: dict[str, float] | None = None
    error_rate: float | None = Field(None, ge=0, le=1)
    error: str | None = None
    retry_after: Seconds | None = None
    fail_after: int | None = Field(None, ge=0)
    keepalive: Seconds | None = None
    usage: bool | None = None
    weights: str | None = None
    logprob_noise: float | None = Field(None, ge=0, le=5)
    tool_faults: dict[str, float] | None = None

    @model_validator(mode="after")
    def _known_tool_faults(self) -> _Spec:
        table = self.tool_faults or {}
        unknown = sorted(set(table) - set(TOOL_FAULTS))
        if unknown:
            raise ValueError(
                f"unknown tool fault(s) {', '.join(unknown)}; use {', '.join(TOOL_FAULTS)}"
            )
        if any(not 0 <= p <= 1 for p in table.values()) or sum(table.values()) > 1 + 1e-9:
            raise ValueError(
                "tool fault probabilities must each lie in 0..1 and add up to at most 1"
            )
        return self

    @model_validator(mode="after")
    def _known_errors(self) -> _Spec:
        kinds = dict(self.errors or {})
        if self.error is not None:
            kinds[self.error] = self.error_rate if self.error_rate is not None else 1.0
        unknown = sorted(set(kinds) - set(ERROR_KINDS))
        if unknown:
            raise ValueError(
                f"unknown error kind(s) {', '.join(unknown)}; use {', '.join(ERROR_KINDS)}"
            )
        if any(not 0 <= p <= 1 for p in kinds.values()) or sum(kinds.values()) > 1 + 1e-9:
            raise ValueError("error probabilities must each lie in 0..1 and add up to at most 1")
        return self

    def error_table(self) -> dict[str, float] | None:
        if self.errors is None and self.error is None:
            return None
        kinds = dict(self.errors or {})
        if self.error is not None:
            kinds[self.error] = self.error_rate if self.error_rate is not None else 1.0
        return kinds


class _Phase(_Spec):
    until: Seconds | None = None


class _ModelSpec(_Spec):
    phases: list[_Phase] = Field(default_factory=list)


class _ScenarioSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str | None = None
    seed: int | None = None
    keys: list[str] | None = None
    answers: dict[str, str] = Field(default_factory=dict)
    cycle: Seconds | None = None
    defaults: _Spec = Field(default_factory=_Spec)
    models: dict[str, _ModelSpec] = Field(default_factory=lambda: {"*": _ModelSpec()})

    @field_validator("answers")
    @classmethod
    def _patterns_compile(cls, answers: dict[str, str]) -> dict[str, str]:
        for pattern in answers:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"{pattern!r} is not a regular expression: {exc}") from None
        return answers


@dataclass(frozen=True, slots=True)
class Behaviour:
    """What one model does right now. Times in seconds."""

    ttft: float = 0.15
    tokens_per_s: float = 100.0  # 0: every token at once
    jitter: float = 0.0  # sigma of a lognormal factor on ttft (heavy-tailed)
    spike_rate: float = 0.0  # chance of an extra `spike` delay before the first token
    spike: float = 2.0
    answer: str = "correct"  # correct | wrong | any other text, sent as is
    wrong_rate: float = 0.0
    response_model: str | None = None  # None: the model asked for
    system_fingerprint: str | None = "fp_brownout_sim"
    errors: MappingProxyType[str, float] = field(default_factory=lambda: MappingProxyType({}))
    retry_after: float = 2.0
    fail_after: int = 2  # tokens sent before a mid-stream fault
    keepalive: float = 0.0  # while thinking, a keep-alive this often (OpenRouter's comments)
    usage: bool = True  # token usage reported (some OpenAI-compatible servers send none)
    weights: str | None = (
        None  # another set of weights behind the name (monitor.simulator.logprobs)
    )
    logprob_noise: float = 0.0  # run-to-run jitter of the log-probabilities, nats (sd)
    # tool-call fault → probability (monitor.simulator.tool_calls.TOOL_FAULTS)
    tool_faults: MappingProxyType[str, float] = field(default_factory=lambda: MappingProxyType({}))


def _merge(base: Behaviour, spec: _Spec) -> Behaviour:
    values = {
        name: getattr(spec, name)
        for name in Behaviour.__dataclass_fields__
        if name not in ("errors", "tool_faults")
        and name in type(spec).model_fields
        and getattr(spec, name) is not None
    }
    if spec.tool_faults is not None:
        values["tool_faults"] = MappingProxyType(dict(spec.tool_faults))
    table = spec.error_table()
    if table is not None:
        values["errors"] = MappingProxyType(table)
    return Behaviour(**{**{n: getattr(base, n) for n in Behaviour.__dataclass_fields__}, **values})


@dataclass(frozen=True, slots=True)
class _Timeline:
    phases: tuple[tuple[float, Behaviour], ...]  # (until, behaviour); the last until is inf

    def at(self, elapsed: float) -> Behaviour:
        for until, behaviour in self.phases:
            if elapsed < until:
                return behaviour
        return self.phases[-1][1]


class Scenario:
    """A validated scenario. Build with `load_scenario(path)` or `Scenario.from_dict(data)`."""

    def __init__(self, spec: _ScenarioSpec) -> None:
        self.name = spec.name or "scenario"
        self.seed = spec.seed
        self.keys: frozenset[str] | None = frozenset(spec.keys) if spec.keys is not None else None
        self.answers = tuple((re.compile(p), a) for p, a in spec.answers.items())
        self.cycle = spec.cycle
        base = _merge(Behaviour(), spec.defaults)
        self._exact: dict[str, _Timeline] = {}
        self._patterns: list[tuple[str, _Timeline]] = []
        for name, model in spec.models.items():
            own = _merge(base, model)
            phases = [
                (p.until if p.until is not None else float("inf"), _merge(own, p))
                for p in model.phases
            ] or [(float("inf"), own)]
            timeline = _Timeline(tuple(phases))
            if any(c in name for c in "*?["):
                self._patterns.append((name, timeline))
            else:
                self._exact[name] = timeline

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> Scenario:
        """Validate `data` (the YAML's shape); raises UsageError listing every problem."""
        try:
            return cls(_ScenarioSpec.model_validate(data or {}))
        except ValidationError as exc:
            problems = [
                f"{'.'.join(str(p) for p in e['loc']) or 'scenario'}: {e['msg']}"
                for e in exc.errors()
            ]
            raise UsageError("invalid scenario: " + "; ".join(problems)) from None

    @property
    def models(self) -> list[str]:
        """The model names and patterns this scenario serves."""
        return [*self._exact, *(p for p, _ in self._patterns)]

    def behaviour(self, model: str, elapsed: float) -> Behaviour | None:
        """How `model` behaves `elapsed` seconds in; None when the scenario does not serve it."""
        timeline = self._exact.get(model)
        if timeline is None:
            timeline = next((t for p, t in self._patterns if fnmatchcase(model, p)), None)
            if timeline is None:
                return None
        if self.cycle:
            elapsed %= self.cycle
        return timeline.at(elapsed)

    def key_ok(self, key: str | None) -> bool:
        return self.keys is None or (key is not None and key in self.keys)


def load_scenario(source: str | Path | dict[str, Any] | Scenario | None) -> Scenario:
    """A Scenario from a YAML file path, a dict, or a Scenario (returned as is); None: healthy."""
    if isinstance(source, Scenario):
        return source
    if source is None or isinstance(source, dict):
        scenario = Scenario.from_dict(source)
        if source is None:
            scenario.name = "healthy"
        return scenario
    path = Path(source)
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_SCENARIO_BYTES + 1)
    except OSError as exc:
        raise UsageError(f"cannot read scenario {path}: {exc.strerror or exc}") from None
    if len(raw) > MAX_SCENARIO_BYTES:
        raise UsageError(f"scenario {path} is over 1 MB, too large to be a scenario")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise UsageError(f"scenario {path} is not UTF-8 text") from None
    try:
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark is not None else 1
        raise UsageError(f"scenario {path}:{line}: not valid YAML: {exc.problem or exc}") from None
    except yaml.YAMLError as exc:
        raise UsageError(f"scenario {path} is not valid YAML: {exc}") from None
    except RecursionError:  # PyYAML's composer recurses: thousands of `[`
        raise UsageError(f"scenario {path} is nested too deeply to be a scenario") from None
    if data is not None and not isinstance(data, dict):
        raise UsageError(f"scenario {path} must be a mapping")
    scenario = Scenario.from_dict(data)
    if scenario.name == "scenario":
        scenario.name = path.stem
    return scenario
