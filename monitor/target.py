"""A target: one provider's model, resolved from the config into the values a probe needs.

    target = config.targets()[0]
    target.name, target.kind, target.base_url, target.interval   # "openai/gpt-4o-mini", …

A leaf of the import graph: providers, the probe and the scheduler take a `Target` and never
read the config. `monitor.config.Config.targets()` builds every target, applying the schedule's
defaults, so the effective interval and timeout are decided there and nowhere else.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
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
