"""Messages in plain words, with the figures detection gives against each target's baseline."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from monitor.alerts import messages
from tests.alerts.conftest import T0


@pytest.mark.parametrize(
    ("reason", "detail", "line"),
    [
        (
            "latency",
            {"value_ms": 2400, "baseline_ms": 800, "ratio": 3.0},
            "total latency: 2400 ms against a baseline of 800 ms (3.0×)",
        ),
        (
            "ttft",
            {"value_ms": 1900.5, "baseline_ms": 310, "ratio": 6.13, "limit": 1500},
            "time to first token: 1900 ms against a baseline of 310 ms (6.1×); limit 1500",
        ),
        (
            "throughput",
            {"value_per_s": 12.5, "baseline_per_s": 61, "ratio": 4.9},
            "throughput: 12 tokens/s against a baseline of 61 tokens/s (4.9×)",
        ),
        ("errors", {"rate": 0.35, "baseline_rate": 0.01}, "errors: 35% against a baseline of 1%"),
        (
            "quality",
            {"pass_rate": 0.6, "baseline_pass_rate": 0.98},
            "answer quality: 60% against a baseline of 98%",
        ),
        (
            "model_change",
            {"field": "response_model", "model": "gpt-4o-2025", "baseline": "gpt-4o-2024"},
            "the model behind the name changed: response model gpt-4o-2024 → gpt-4o-2025",
        ),
        (
            "model_change",
            {
                "field": "logprobs",
                "canary": "drift",
                "change": "the distribution changed",
                "p_value": 0.000155,
                "alpha": 0.01,
                "evidence": [
                    {"token": "A", "reference_logprob": -2.3, "current_logprob": -4.66},
                    {"token": "C", "reference_logprob": -4.62, "current_logprob": -3.28},
                ],
            },
            "the distribution of the drift canary's first-token logprobs changed "
            "(p = 0.00015 at a level of 0.01): 'A' -2.3 → -4.66, 'C' -4.62 → -3.28",
        ),
        (
            "model_change",
            {
                "field": "answers",
                "canary": "poem",
                "p_value": 0.0003,
                "alpha": 0.001,
                "evidence": [{"answer": "Sydney", "reference_share": 0.1, "current_share": 0.6}],
            },
            "the distribution of the poem canary's answers changed (p = 0.0003 at a level of "
            "0.001): 'Sydney' 10% → 60% of answers",
        ),
        ("rate_limit", None, "rate limiting"),
    ],
)
def test_a_reason_reads_as_a_figure_against_its_baseline(
    reason: str, detail: Any, line: str
) -> None:
    event = messages.event(
        messages.PROBLEM,
        ts=T0,
        target="openai/gpt-4o-mini",
        old="operational",
        new="degraded",
        reasons=[reason],
        details={reason: detail} if detail is not None else {},
        incident_start=T0,
    )

    body = messages.render([event]).body

    assert f"- {line}" in body.splitlines()


def test_a_target_already_down_at_start_up_does_not_claim_what_it_was_before() -> None:
    event = messages.event(
        messages.PROBLEM, ts=T0, target="a/b", old="unknown", new="down", incident_start=T0
    )

    rendered = messages.render([event])

    assert rendered.title == "a/b is down"
    assert rendered.body == "a/b is down since 2026-11-28 10:00:00 UTC."
    assert rendered.notify_type == "failure"


def test_a_target_that_worsened_while_its_message_waited_reads_as_its_latest_status() -> None:
    degraded = messages.event(
        messages.PROBLEM, ts=T0, target="a/b", old="operational", new="degraded",
        incident_start=T0, told="operational",
    )  # fmt: skip
    later = T0 + timedelta(seconds=20)
    down = messages.event(
        messages.PROBLEM, ts=later, target="a/b", old="degraded", new="down",
        incident_start=T0, told="degraded",
    )  # fmt: skip

    rendered = messages.render([degraded, down])

    assert rendered.title == "a/b is down"
    assert "The incident began 2026-11-28 10:00:00 UTC." in rendered.body


def test_a_problem_and_its_recovery_in_one_message_read_as_a_brief_problem() -> None:
    down = messages.event(
        messages.PROBLEM, ts=T0, target="a/b", old="operational", new="down", incident_start=T0
    )
    back = messages.event(
        messages.RECOVERY, ts=T0 + timedelta(seconds=25), target="a/b", old="down",
        new="operational", incident_start=T0, worst="down",
    )  # fmt: skip

    rendered = messages.render([down, back])

    assert rendered.title == "a/b was briefly down"
    assert "The incident lasted 25s" in rendered.body
