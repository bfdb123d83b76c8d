"""Loading `probes.yaml`: read, expand `${VAR}`, validate strictly, and report every problem at once.

    config = load_config("probes.yaml")     # raises ConfigError with `FILE:LINE: message` lines
    for target in config.targets(): ...

A provider (or alert channel) whose values name an unset environment variable is skipped with a
warning, not an error, so one file serves every environment; `config.warnings` lists them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import Field, PrivateAttr, ValidationError

from monitor.config.alerts import AlertChannel, DeliveryConfig, MaintenanceWindow
from monitor.config.api import ApiConfig
from monitor.config.cadence import Round, rounds
from monitor.config.dashboard import DashboardConfig
from monitor.config.detection import DetectionConfig
from monitor.config.families import Families, family_problems
from monitor.config.otel import OtelConfig
from monitor.config.reports import ReportsConfig
from monitor.config.schema import (
    BudgetConfig,
    CanaryConfig,
    ProviderConfig,
    ScheduleConfig,
    SloConfig,
    StorageConfig,
    Strict,
    database_problem,
)
from monitor.config.statuspages import StatusPagesConfig
from monitor.config.yamlsource import Document, YamlProblem, parse
from monitor.durations import format_duration
from monitor.errors import ConfigError
from monitor.secrets import protect_logs, secret_header, secret_values
from monitor.target import Target, selected

__all__ = [
    "CanaryConfig",
    "Config",
    "ProviderConfig",
    "Round",
    "config_path",
    "load_config",
]

DEFAULT_PATH = "probes.yaml"
MAX_CONFIG_BYTES = 1024 * 1024
"""A config is a few kilobytes; past this the file is not a config (`/dev/zero`, a log)."""


class Config(Strict):
    region: str = "default"
    storage: StorageConfig = Field(default_factory=StorageConfig)
    schedule: ScheduleConfig = Field(default_factory=ScheduleConfig)
    providers: dict[str, ProviderConfig] = Field(default_factory=dict)
    canaries: list[CanaryConfig] = Field(default_factory=list)
    detection: DetectionConfig = Field(default_factory=DetectionConfig)
    alerts: list[AlertChannel] = Field(default_factory=list)
    delivery: DeliveryConfig = Field(default_factory=DeliveryConfig)
    maintenance: list[MaintenanceWindow] = Field(default_factory=list)
    families: Families = Field(default_factory=dict)
    statuspages: StatusPagesConfig = Field(default_factory=StatusPagesConfig)
    dashboard: DashboardConfig = Field(default_factory=DashboardConfig)
    api: ApiConfig = Field(default_factory=ApiConfig)
    reports: ReportsConfig = Field(default_factory=ReportsConfig)
    budget: BudgetConfig = Field(default_factory=BudgetConfig)
    otel: OtelConfig = Field(default_factory=OtelConfig)

    _warnings: list[str] = PrivateAttr(default_factory=list)
    _path: str | None = PrivateAttr(default=None)

    @property
    def warnings(self) -> list[str]:
        """Things skipped while loading (a provider whose key is not set), as `FILE:LINE: message`."""
        return self._warnings

    @property
    def path(self) -> str | None:
        return self._path

    def targets(self) -> list[Target]:
        """Every enabled provider × model, in config order, each resolved into a `Target`: the
        one place where a provider's interval and timeout fall back to the schedule's."""
        return [
            Target(
                name=f"{name}/{model}",
                provider=name,
                model=model,
                kind=provider.kind,
                base_url=provider.base_url,
                interval=provider.interval or self.schedule.interval,
                timeout=provider.timeout or self.schedule.timeout,
                api_key=provider.api_key,
                headers=provider.headers,
                body=provider.body,
                price=provider.price.get(model),
            )
            for name, provider in self.providers.items()
            if provider.enabled
            for model in provider.models
        ]

    def secrets(self) -> list[str]:
        """Every credential the config holds, for scrubbing text that providers echo back:
        each provider's `api_key` and the values of its secret headers (`monitor.secrets`), and
        every header value sent to the OpenTelemetry collector (`otel.headers`)."""
        values: list[str] = []
        for provider in self.providers.values():
            if provider.api_key:
                values.append(provider.api_key)
            values += [v for k, v in provider.headers.items() if secret_header(k)]
        values += list(self.otel.headers.values())
        return secret_values(values)

    def canaries_for(self, target: Target) -> list[CanaryConfig]:
        """The canaries whose `targets` patterns select `target` (`monitor.target.matches`)."""
        return [c for c in self.canaries if selected(c.targets, target.name)]

    def rounds_for(self, target: Target) -> list[Round]:
        """`target`'s canaries grouped by cadence (`every:`), fastest first
        (`monitor.config.cadence`): what the scheduler runs and staleness is judged on."""
        return rounds(self.canaries_for(target), target.interval)

    def slo_for(self, target: str) -> SloConfig | None:
        """The service-level objective of `target` (`PROVIDER/MODEL`): its provider's `slo:`."""
        provider = self.providers.get(target.partition("/")[0])
        return provider.slo if provider is not None else None

    def tiers(self) -> dict[str, str]:
        """Each canary's workload tier (`CanaryConfig.workload`), by canary name."""
        return {c.name: c.workload for c in self.canaries}

    def burst_canaries(self) -> frozenset[str]:
        """The names of the canaries sent as bursts."""
        return frozenset(c.name for c in self.canaries if c.burst)


def config_path(explicit: str | None = None, env: Mapping[str, str] | None = None) -> str:
    """The config file to use: `--config`, else `BROWNOUT_CONFIG`, else `./probes.yaml`."""
    env = os.environ if env is None else env
    return explicit or env.get("BROWNOUT_CONFIG") or DEFAULT_PATH


def load_config(
    path: str | None = None,
    env: Mapping[str, str] | None = None,
    *,
    required: bool = True,
) -> Config:
    """Load and validate the config at `path` (see `config_path`).

    With `required=False`, a missing file at the default location gives the defaults (commands
    that only read the database work without a config). `BROWNOUT_DB` overrides `storage.url`.
    Raises ConfigError listing every problem as `FILE:LINE: message`.
    """
    env = os.environ if env is None else env
    chosen = config_path(path, env)
    file = Path(chosen)
    if not file.exists() and not required and path is None and not env.get("BROWNOUT_CONFIG"):
        config = Config()
    else:
        config = _validate(_read(file, chosen), chosen, env)
    if env.get("BROWNOUT_DB"):
        problem = database_problem(env["BROWNOUT_DB"])
        if problem:
            raise ConfigError([f"BROWNOUT_DB: {problem}"])
        config = config.model_copy(
            update={"storage": config.storage.model_copy(update={"url": env["BROWNOUT_DB"]})}
        )
    # The one door every command passes: from here on no log line can show a key.
    protect_logs([*config.secrets(), *_password(config.storage.url)])
    return config


def _password(url: str) -> list[str]:
    from sqlalchemy.engine import make_url

    password = make_url(url).password
    return [str(password)] if password else []


def _read(file: Path, name: str) -> str:
    """The config's text: a UTF-8 file of at most MAX_CONFIG_BYTES, not empty."""
    try:
        with file.open("rb") as handle:
            raw = handle.read(MAX_CONFIG_BYTES + 1)
    except FileNotFoundError:
        raise ConfigError([f"{name}:1: config file not found"]) from None
    except OSError as exc:
        raise ConfigError(
            [f"{name}:1: cannot read the config file ({exc.strerror or exc})"]
        ) from None
    if len(raw) > MAX_CONFIG_BYTES:
        raise ConfigError([f"{name}:1: the file is over 1 MB, too large to be a config"])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ConfigError([f"{name}:{line}: the file is not UTF-8 text"]) from None
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise ConfigError([f"{name}:{line}: the file holds a NUL byte; it is not a config"])
    return text


def _validate(text: str, name: str, env: Mapping[str, str]) -> Config:
    try:
        doc = parse(text, env)
    except YamlProblem as exc:
        raise ConfigError([f"{name}:{exc.line}: {exc}"]) from None
    if doc.data is None:
        raise ConfigError(
            [f"{name}:1: the config is empty; it needs at least providers and canaries"]
        )
    if not isinstance(doc.data, dict):
        raise ConfigError(
            [f"{name}:1: the config must be a mapping of sections (storage, providers, …)"]
        )
    warnings, problems, skipped = _drop_unset(doc, name)
    config: Config | None = None
    try:
        config = Config.model_validate(doc.data)
    except ValidationError as exc:
        problems.extend(_describe(exc, doc, name))
    problems.extend(_cross_checks(doc, name))
    if config is not None:
        targets = [t.name for t in config.targets()]
        for problem in family_problems(config.families, targets, skipped):
            family = problem.split(":", 1)[0].removeprefix("families.")
            problems.append(f"{name}:{doc.line_of(('families', family))}: {problem}")
    if problems:
        raise ConfigError(sorted(set(problems), key=_line_key))
    assert config is not None
    warnings.extend(_short_intervals(config, doc, name))
    config._warnings = warnings
    config._path = name
    return config


SHORT_INTERVAL_S = 1.0
"""An interval below this is almost surely a typo (`1ms` for `1m`): probes would run back to back."""


def _short_intervals(config: Config, doc: Document, name: str) -> list[str]:
    found: list[tuple[tuple[str, ...], float]] = [
        (("schedule", "interval"), config.schedule.interval)
    ]
    found += [
        (("providers", provider, "interval"), p.interval)
        for provider, p in config.providers.items()
        if p.interval is not None
    ]
    return [
        f"{name}:{doc.line_of(path)}: {'.'.join(map(str, path))} is {format_duration(seconds)}: "
        "each target would be probed again as soon as its last probe ends (did you mean minutes?)"
        for path, seconds in found
        if seconds < SHORT_INTERVAL_S
    ]


def _drop_unset(doc: Document, name: str) -> tuple[list[str], list[str], set[str]]:
    """Skip providers and alert channels that name unset variables; other unset ones are problems."""
    warnings: list[str] = []
    problems: list[str] = []
    data: dict[str, Any] = doc.data
    skipped_providers: set[str] = set()
    skipped_channels: set[int] = set()
    for path, var in sorted(doc.unset.items(), key=lambda kv: doc.line_of(kv[0])):
        line = doc.line_of(path)
        section = path[0] if path else None
        if section == "providers" and len(path) >= 2 and isinstance(data.get("providers"), dict):
            provider = str(path[1])
            if provider not in skipped_providers:
                skipped_providers.add(provider)
                warnings.append(f"{name}:{line}: provider {provider} skipped: {var} is not set")
        elif section == "alerts" and len(path) >= 2 and isinstance(path[1], int):
            if path[1] not in skipped_channels:
                skipped_channels.add(path[1])
                warnings.append(
                    f"{name}:{line}: alert channel #{path[1] + 1} skipped: {var} is not set"
                )
        else:
            problems.append(f"{name}:{line}: environment variable {var} is not set")
    for provider in skipped_providers:
        data["providers"].pop(provider, None)
    if skipped_channels and isinstance(data.get("alerts"), list):
        data["alerts"] = [c for i, c in enumerate(data["alerts"]) if i not in skipped_channels]
    return warnings, problems, skipped_providers


def _describe(exc: ValidationError, doc: Document, name: str) -> list[str]:
    out = []
    for error in exc.errors():
        loc = tuple(error["loc"])
        where = ".".join(str(p) for p in loc) or "config"
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = f"unknown key {loc[-1]!r}"
            where = ".".join(str(p) for p in loc[:-1]) or "top level"
        elif error["type"] == "missing":
            message = f"{loc[-1]} is required"
            where = ".".join(str(p) for p in loc[:-1]) or "top level"
        out.append(f"{name}:{doc.line_of(loc)}: {where}: {message}")
    return out


def _cross_checks(doc: Document, name: str) -> list[str]:
    """Checks across entries, on the raw data so they are reported beside schema problems."""
    problems = []
    seen: set[str] = set()
    canaries = doc.data.get("canaries")
    for i, canary in enumerate(canaries if isinstance(canaries, list) else []):
        canary_name = canary.get("name") if isinstance(canary, dict) else None
        if isinstance(canary_name, str):
            if canary_name in seen:
                line = doc.line_of(("canaries", i))
                problems.append(f"{name}:{line}: canaries: the name {canary_name!r} is used twice")
            seen.add(canary_name)
    return problems


def _line_key(problem: str) -> tuple[str, int]:
    parts = problem.split(":", 2)
    try:
        return (parts[0], int(parts[1]))
    except (IndexError, ValueError):
        return (problem, 0)
