"""The banner says the fleet's state in one line, as a status page does."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from dashboard.banner import COLOURS, banner
from monitor.detect.types import Status, TargetStatus

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
SINCE = datetime(2026, 11, 28, 10, 42, tzinfo=UTC)
FLEET = [
    "openai/gpt-4o-mini",
    "anthropic/claude-haiku-4-5",
    "gemini/gemini-2.5-flash",
    "openrouter/meta-llama/llama-3.3-70b-instruct",
    "groq/llama-3.1-8b",
]


def fleet(**overrides: tuple[Status, list[str]]) -> dict[str, TargetStatus]:
    out = {}
    for name in FLEET:
        status, reasons = overrides.get(name.partition("/")[0], (Status.OPERATIONAL, []))
        out[name] = TargetStatus(
            name, status, SINCE if status is not Status.OPERATIONAL else NOW, reasons
        )
    return out


@pytest.mark.parametrize(
    "overrides,text,status",
    [
        ({}, "All providers operational", Status.OPERATIONAL),
        (
            {"anthropic": (Status.DOWN, ["errors"])},
            "Anthropic down since 10:42",
            Status.DOWN,
        ),
        (
            {"openai": (Status.DEGRADED, ["latency"]), "gemini": (Status.DEGRADED, ["quality"])},
            "Intelligence brownout: 2 of 5 providers degraded",
            Status.DEGRADED,
        ),
        (
            {"openai": (Status.DEGRADED, ["latency", "ttft"])},
            "OpenAI degraded since 10:42 (latency, ttft)",
            Status.DEGRADED,
        ),
        (
            {"openai": (Status.DOWN, ["errors"]), "groq": (Status.DOWN, ["errors"])},
            "Outage: 2 of 5 providers down (Groq, OpenAI)",
            Status.DOWN,
        ),
        (
            {"openai": (Status.DOWN, ["errors"]), "gemini": (Status.DEGRADED, ["latency"])},
            "OpenAI down since 10:42; 1 more degraded",
            Status.DOWN,
        ),
        (
            {"groq": (Status.UNKNOWN, ["stale"])},
            "All reporting providers operational; Groq without fresh data",
            Status.OPERATIONAL,
        ),
    ],
)
def test_the_banner_names_the_worst_of_the_fleet(
    overrides: dict[str, tuple[Status, list[str]]], text: str, status: Status
) -> None:
    got = banner(fleet(**overrides), NOW)
    assert (got.text, got.status) == (text, status)
    assert got.colour == COLOURS[status]


def test_a_provider_is_as_bad_as_its_worst_model_with_data() -> None:
    statuses = {
        "openai/a": TargetStatus("openai/a", Status.OPERATIONAL, NOW),
        "openai/b": TargetStatus("openai/b", Status.DEGRADED, SINCE, ["errors"]),
        "openai/c": TargetStatus("openai/c", Status.UNKNOWN, SINCE, ["stale"]),
    }
    assert banner(statuses, NOW).providers == {"openai": Status.DEGRADED}


def test_an_outage_that_began_yesterday_gives_its_date() -> None:
    statuses = {
        "openai/a": TargetStatus("openai/a", Status.DOWN, datetime(2026, 11, 27, 23, 5, tzinfo=UTC))
    }
    assert banner(statuses, NOW).text == "OpenAI down since Nov 27 23:05"


@pytest.mark.parametrize(
    "statuses,text",
    [
        ({}, "No targets configured yet"),
        (
            {"a/x": TargetStatus("a/x", Status.UNKNOWN, NOW, ["stale"])},
            "No fresh data from any provider",
        ),
    ],
)
def test_a_fleet_without_data_says_so(statuses: dict[str, TargetStatus], text: str) -> None:
    got = banner(statuses, NOW)
    assert (got.text, got.status) == (text, Status.UNKNOWN)
