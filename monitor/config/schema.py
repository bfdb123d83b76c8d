"""The config file's shape: strict pydantic models (`extra="forbid"`), validated once at the door.

Sections with several models of their own have a module each (`detection`, `alerts`,
`families`, `dashboard`, `reports`, `statuspages`); this module holds the core. Kinds and
generators are checked against their registries (`monitor.providers.KINDS`,
`monitor.canaries.generators.GENERATORS`), which never import the config.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from monitor.canaries.expect import Expect
from monitor.canaries.generators import GENERATORS
from monitor.canaries.tools import Tool
from monitor.durations import parse_duration
from monitor.providers import KINDS
from monitor.target import Price

Duration = Annotated[float, BeforeValidator(parse_duration)]
"""A duration in seconds, written in config as `500ms`, `30s`, `5m`, `2h`, `30d` or a number."""


DATABASES = ("sqlite", "postgresql")
"""The database backends brownout stores in (SQLite by default, PostgreSQL at scale)."""


def database_problem(url: str) -> str | None:
    """Why brownout cannot store in `url` (not a database URL, or not SQLite or PostgreSQL),
    or None when it names a database brownout supports."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        backend = make_url(url).get_backend_name()
    except ArgumentError:
        return "not a database URL; write sqlite:///FILE or postgresql+psycopg://USER@HOST/DB"
    if backend not in DATABASES:
        return (
            f"{backend} is not supported; use sqlite:///FILE or postgresql+psycopg://USER@HOST/DB"
        )
    return None


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StorageConfig(Strict):
    url: str = "sqlite:///brownout.db"
    # Raw probe results older than this are deleted once rolled up; rollups are kept longer.
    raw_retention: Duration = 30 * 86400
    rollup_retention: Duration = 400 * 86400
    # Delivered and failed alert messages, and alert decisions, older than this are deleted
    # (the newest decision of each channel and target is its state and always kept).
    alert_retention: Duration = 90 * 86400

    @field_validator("url")
    @classmethod
    def _supported(cls, value: str) -> str:
        problem = database_problem(value)
        if problem:
            raise ValueError(problem)
        return value


class BudgetConfig(Strict):
    """The most the canaries may spend a day, in USD and/or tokens (`brownout check --cost`).
    `action: warn` prints a warning when the configured cadence would exceed it; `refuse` makes
    `brownout check` and `brownout run` refuse the config (exit 2)."""

    usd_per_day: float | None = Field(None, gt=0)
    tokens_per_day: float | None = Field(None, gt=0)
    action: Literal["warn", "refuse"] = "warn"


class ScheduleConfig(Strict):
    interval: Duration = 60.0
    timeout: Duration = 30.0
    # Each target's start is spread by up to this fraction of its interval, so probes don't bunch.
    jitter: float = Field(0.1, ge=0, le=1)
    # How many probes may be in flight at once, over all targets. Probes in flight are the rate
    # times a probe's duration (Little's law): 2,000 targets every 30 s at 2 s each need ~133,
    # and a hung target holds its slot for the whole timeout. 256 covers a mean probe of 3.8 s
    # at that rate; slots not needed cost nothing (docs/benchmarks.md, "max_concurrency").
    max_concurrency: int = Field(256, ge=1)

    @field_validator("interval", "timeout")
    @classmethod
    def _positive(cls, value: float) -> float:
        if value <= 0:
            raise ValueError("must be greater than zero")
        return value


def _fraction(value: object) -> object:
    """`99.9%` → 0.999; a number is taken as a fraction (0.999), or as a percentage above 1."""
    if isinstance(value, str):
        text = value.strip()
        if text.endswith("%"):
            try:
                return round(float(text[:-1]) / 100, 12)
            except ValueError:
                raise ValueError(f"{value!r} is not a percentage such as 99.9%") from None
        try:
            number = float(text)
        except ValueError:
            raise ValueError(f"{value!r} is not a percentage such as 99.9%") from None
        return round(number / 100, 12) if number > 1 else number
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 1:
        return round(value / 100, 12)
    return value


Objective = Annotated[float, BeforeValidator(_fraction), Field(gt=0, lt=1)]


class SloConfig(Strict):
    """`slo:` of a provider, for each of its targets: `availability` is the share of counted
    probes (not rate-limited, not cancelled) that did not fail, written `99.9%` or `0.999`;
    `ttft_p95: 2s` asks that 95 % of answered probes have their first token within 2 s.
    Burn rates and compliance are `monitor.slo`'s."""

    availability: Objective | None = None
    ttft_p95: Duration | None = None

    @model_validator(mode="after")
    def _something(self) -> SloConfig:
        if self.availability is None and self.ttft_p95 is None:
            raise ValueError("an slo needs availability (e.g. 99.9%) or ttft_p95 (e.g. 2s)")
        if self.ttft_p95 is not None and self.ttft_p95 <= 0:
            raise ValueError("ttft_p95 must be greater than zero")
        return self


class ProviderConfig(Strict):
    kind: str
    base_url: str
    api_key: str | None = None
    models: list[str] = Field(min_length=1)
    price: dict[str, Price] = Field(default_factory=dict)
    headers: dict[str, str] = Field(default_factory=dict)
    # Merged into every request body (nested mappings merge): Gemini's thinkingConfig, OpenAI's
    # reasoning_effort, a vLLM sampling option …
    body: dict[str, Any] = Field(default_factory=dict)
    interval: Duration | None = None
    timeout: Duration | None = None
    enabled: bool = True
    # Service-level objectives of every target of this provider (monitor.config.slo).
    slo: SloConfig | None = None

    @field_validator("base_url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not re.match(r"^https?://[^\s/]+", value):
            raise ValueError(f"base_url must be an http(s) URL, got {value!r}")
        try:
            port = urlsplit(value).port
        except ValueError:
            port = -1
        if port is not None and not 1 <= port <= 65535:
            raise ValueError(f"the port in base_url {value!r} must be between 1 and 65535")
        return value.rstrip("/")

    @field_validator("models")
    @classmethod
    def _models_once(cls, value: list[str]) -> list[str]:
        twice = sorted({m for m in value if value.count(m) > 1})
        if twice:
            raise ValueError(f"models listed more than once: {', '.join(twice)}")
        return value

    @field_validator("kind")
    @classmethod
    def _kind(cls, value: str) -> str:
        if value not in KINDS:
            raise ValueError(f"unknown kind {value!r}; use one of {', '.join(sorted(KINDS))}")
        return value

    @model_validator(mode="after")
    def _key_when_needed(self) -> ProviderConfig:
        provider = KINDS.get(self.kind)
        if provider is not None and provider.needs_key and not self.api_key:
            hint = provider.key_env_var or "YOUR_KEY_VARIABLE"
            raise ValueError(
                f"a {self.kind} provider needs api_key; add `api_key: ${{{hint}}}` and set {hint}"
            )
        return self

    @field_validator("price")
    @classmethod
    def _prices_name_models(cls, value: dict[str, Price], info: ValidationInfo) -> dict[str, Price]:
        unknown = sorted(set(value) - set(info.data.get("models") or []))
        if unknown:
            raise ValueError(f"price given for models not in models: {', '.join(unknown)}")
        return value


class CanaryConfig(Strict):
    """A canary: a fixed prompt with its check, or a generator that makes both fresh each time."""

    name: str = Field(pattern=r"^[A-Za-z0-9_.\-]+$")
    prompt: str | None = None
    expect: Expect | None = None
    generator: str | None = None
    system: str | None = None
    max_tokens: int = Field(16, ge=1, le=4096)
    temperature: float = Field(0.0, ge=0, le=2)
    # Ask for the first output token's top-K log-probabilities (OpenAI-compatible targets;
    # the other protocols have none): the input of the model-identity drift test.
    logprobs: int | None = Field(None, ge=1, le=20)
    # Target names or shell-style patterns (`openai/*`); empty means every target.
    targets: list[str] = Field(default_factory=list)
    # How often this canary runs on each target (default: the target's interval). Canaries of one
    # cadence run together, one after the other; each cadence is its own scheduled job.
    every: Duration | None = None
    # N probes sent at once, once per `every` at a random time within it (a load test).
    burst: int | None = Field(None, ge=2, le=100)
    # The workload tier its timings are compared within (`short` by default, `burst` for a
    # burst): a long prompt's latency has its own baselines, never a short one's.
    tier: str | None = Field(None, pattern=r"^[A-Za-z0-9_.\-]+$")

    # A tool canary: the tools offered, and whether the model must call one (docs/canaries.md).
    tools: list[Tool] = Field(default_factory=list)
    tool_choice: str = "auto"

    @property
    def workload(self) -> str:
        """The tier whose timing baselines this canary's results join."""
        return self.tier or ("burst" if self.burst else "short")

    @field_validator("every")
    @classmethod
    def _every_positive(cls, value: float | None) -> float | None:
        if value is not None and value <= 0:
            raise ValueError("must be greater than zero")
        return value

    @model_validator(mode="after")
    def _burst_has_a_period(self) -> CanaryConfig:
        if self.burst is not None and self.every is None:
            raise ValueError("a burst canary needs every: (how often the burst is sent, e.g. 1d)")
        return self

    @model_validator(mode="after")
    def _prompt_or_generator(self) -> CanaryConfig:
        self._tools_fit()
        if self.generator is not None:
            if self.generator not in GENERATORS:
                raise ValueError(
                    f"unknown generator {self.generator!r}; use one of {', '.join(sorted(GENERATORS))}"
                )
            if self.prompt is not None or self.expect is not None:
                raise ValueError("a generated canary makes its own prompt and expect; remove them")
            if self.logprobs is not None:
                raise ValueError(
                    "logprobs needs a fixed prompt (the drift test compares answers to one "
                    "prompt over time); remove logprobs or give a prompt and expect"
                )
        elif self.prompt is None or self.expect is None:
            raise ValueError("a canary needs prompt and expect, or a generator")
        return self

    def _tools_fit(self) -> None:
        names = [t.name for t in self.tools]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"tools named more than once: {', '.join(twice)}")
        wanted = self.expect.tool_call if self.expect is not None else None
        if self.tools and self.generator is not None:
            raise ValueError("a generated canary offers no tools; remove tools")
        if self.tools and wanted is None:
            raise ValueError("a canary with tools checks the call: expect: {tool_call: {name: …}}")
        if wanted is not None and wanted.name not in names:
            offered = ", ".join(names) or "none"
            raise ValueError(
                f"expect.tool_call names {wanted.name!r}, which tools do not offer ({offered})"
            )
        if self.tool_choice not in ("auto", "required", "none", *names):
            raise ValueError(
                f"tool_choice must be auto, required, none or an offered tool's name, "
                f"got {self.tool_choice!r}"
            )
        if self.tools and self.tool_choice == "none":
            raise ValueError("tool_choice none forbids the call the canary expects")


Kind = Literal["openai", "anthropic", "gemini"]
