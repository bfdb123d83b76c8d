"""A target: one provider's model, resolved from the config into the values a probe needs.

    target = config.targets()[0]
    target.name, target.kind, target.base_url, target.interval   # "openai/gpt-4o-mini", …

A leaf of the import graph: providers, the probe and the scheduler take a `Target` and never
read the config. `monitor.config.Config.targets()` builds every target, applying the schedule's
defaults, so the effective interval and timeout are decided there and nowhere else.

Target patterns, wherever the config or the command line takes them (`canaries[].targets`,
`alerts[].targets`, maintenance windows, detection overrides, `--target`), follow one rule,
`matches`: a shell-style pattern matched against the whole name or against the provider alone.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Price(BaseModel):
    """USD per million tokens."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    input: float = Field(ge=0)
    output: float = Field(ge=0)


@dataclass(frozen=True, slots=True, kw_only=True)
class Target:
    """One provider and one model: the unit that is probed, measured and given a status.

    `name` is `PROVIDER/MODEL`; `provider` is the config's name for the provider, `kind` its
    wire protocol. `interval` and `timeout` are seconds, already resolved (the provider's own,
    else the schedule's). `api_key` and `headers` are secrets and stay out of `repr`.
    """

    name: str
    provider: str
    model: str
    kind: str
    base_url: str
    interval: float
    timeout: float
    api_key: str | None = field(default=None, repr=False)
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)
    body: Mapping[str, Any] = field(default_factory=dict)
    price: Price | None = None


def matches(pattern: str, name: str) -> bool:
    """Whether `pattern` names the target `name` (PROVIDER/MODEL): a shell-style pattern that
    matches the whole name (`openai/gpt-4o-mini`, `openai/*`, `*/gpt-4o*`) or the provider
    alone (`openai`, `open*`)."""
    provider = name.partition("/")[0]
    return fnmatchcase(name, pattern) or fnmatchcase(provider, pattern)


def selected(patterns: Iterable[str], name: str) -> bool:
    """Whether a filter of target patterns lets `name` through; no patterns let every target
    through."""
    patterns = list(patterns)
    return not patterns or any(matches(p, name) for p in patterns)
