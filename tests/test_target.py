"""Targets: resolved once from the config, and named by patterns under one rule everywhere."""

from __future__ import annotations

import pytest

from monitor.config import CanaryConfig, Config
from monitor.config.alerts import AlertChannel
from monitor.config.detection import DetectionConfig
from monitor.errors import UsageError
from monitor.reports.build import matching_names
from monitor.selection import select_targets
from monitor.target import matches, selected


def _config(**schedule: float) -> Config:
    return Config.model_validate(
        {
            "schedule": schedule or {},
            "providers": {
                "openai": {
                    "kind": "openai",
                    "base_url": "http://127.0.0.1:9/v1",
                    "models": ["gpt-4o-mini"],
                    "interval": 10,
                },
                "anthropic": {
                    "kind": "anthropic",
                    "base_url": "http://127.0.0.1:9",
                    "api_key": "test-key-0123456789",
                    "models": ["claude-haiku"],
                    "timeout": 5,
                    "price": {"claude-haiku": {"input": 1.0, "output": 5.0}},
                },
            },
        }
    )


def test_a_target_takes_its_providers_interval_and_timeout_else_the_schedules() -> None:
    openai, anthropic = _config(interval=60, timeout=30).targets()

    assert (openai.name, openai.interval, openai.timeout) == ("openai/gpt-4o-mini", 10, 30)
    assert (anthropic.name, anthropic.interval, anthropic.timeout) == (
        "anthropic/claude-haiku",
        60,
        5,
    )
    assert anthropic.price is not None and anthropic.price.output == 5.0


def test_a_targets_key_is_not_in_its_repr() -> None:
    anthropic = _config().targets()[1]

    assert anthropic.api_key == "test-key-0123456789"
    assert "test-key" not in repr(anthropic)


@pytest.mark.parametrize(
    ("pattern", "name", "expected"),
    [
        ("openai/gpt-4o-mini", "openai/gpt-4o-mini", True),
        ("openai/*", "openai/gpt-4o-mini", True),
        ("*/gpt-4o*", "openai/gpt-4o-mini", True),
        ("openai", "openai/gpt-4o-mini", True),
        ("open*", "openai/gpt-4o-mini", True),
        ("*ai", "openai/gpt-4o-mini", True),
        ("o?enai", "openai/gpt-4o-mini", True),
        ("openai/gpt-4o", "openai/gpt-4o-mini", False),
        ("anthropic", "openai/gpt-4o-mini", False),
        ("gpt-4o-mini", "openai/gpt-4o-mini", False),
        ("OpenAI", "openai/gpt-4o-mini", False),
        ("openrouter/*", "openrouter/meta-llama/llama-3.3-70b", True),
        ("openrouter", "openrouter/meta-llama/llama-3.3-70b", True),
    ],
)
def test_a_pattern_matches_the_whole_name_or_the_provider(
    pattern: str, name: str, expected: bool
) -> None:
    assert matches(pattern, name) is expected


def test_no_patterns_select_every_target() -> None:
    assert selected([], "openai/gpt-4o-mini")
    assert not selected(["anthropic"], "openai/gpt-4o-mini")


# A glob on the provider's name such as `*ai` (which does not match the whole name) used to
# select canaries, `--target` and report targets only when it equalled the provider's name,
# while alerts, maintenance and detection overrides matched it as a glob. Every place now
# follows `matches`.


def test_a_provider_glob_selects_canaries_as_it_selects_alerts() -> None:
    config = _config().model_copy(
        update={
            "canaries": [
                CanaryConfig(name="c", prompt="p", expect={"equals": "x"}, targets=["*ai"])
            ]
        }
    )
    openai, anthropic = config.targets()
    channel = AlertChannel.model_validate(
        {"name": "a", "urls": ["json://127.0.0.1:9"], "targets": ["*ai"]}
    )

    assert [c.name for c in config.canaries_for(openai)] == ["c"]
    assert config.canaries_for(anthropic) == []
    assert channel.wants(openai.name) and not channel.wants(anthropic.name)


def test_a_provider_glob_selects_targets_on_the_command_line() -> None:
    assert [t.name for t in select_targets(_config(), ["*ai"])] == ["openai/gpt-4o-mini"]
    with pytest.raises(UsageError, match="no target matches 'gem\\*'"):
        select_targets(_config(), ["gem*"])


def test_a_provider_glob_selects_report_targets() -> None:
    names = ["openai/gpt-4o-mini", "anthropic/claude-haiku"]

    assert matching_names(names, ["*ai"]) == ["openai/gpt-4o-mini"]


def test_a_provider_glob_selects_detection_overrides() -> None:
    detection = DetectionConfig.model_validate({"overrides": {"*ai": {"stale_after": 7}}})

    assert detection.for_target("openai/gpt-4o-mini").stale_after == 7
    assert detection.for_target("anthropic/claude-haiku").stale_after != 7
