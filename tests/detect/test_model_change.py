"""Model-identity drift in the `model_change` signal: a drift canary's answers (top logprobs, or
answer texts for the canaries named in `answers`) tested window by window against a reference."""

from __future__ import annotations

import json
import random

from monitor.config.detection import DetectionConfig
from monitor.detect.engine import replay
from monitor.detect.types import Status
from monitor.result import ProbeResult
from tests.factories import drift_probe, minute_probe

REFERENCE, WINDOW = 30, 20


def _stream(
    n: int, shift_from: int | None = None, shift: float = 1.0, seed: int = 1
) -> list[ProbeResult]:
    rng = random.Random(seed)
    return [
        drift_probe(i, rng, shift if shift_from is not None and i >= shift_from else 0.0)
        for i in range(n)
    ]


def test_the_same_weights_for_two_days_raise_no_model_change() -> None:
    transitions = replay(_stream(2880), DetectionConfig())
    assert [t for t in transitions if t.new is not Status.OPERATIONAL] == []


def test_requantised_weights_behind_the_same_name_raise_model_change_with_the_evidence() -> None:
    config = DetectionConfig()
    alpha = config.drift_alpha(60.0, 1)
    transitions = replay(_stream(400, shift_from=200), config)
    [alarm] = [t for t in transitions if t.new is Status.DEGRADED]
    assert alarm.reasons == ["model_change"]
    details = alarm.details["model_change"]
    assert details["field"] == "logprobs" and details["canary"] == "drift"
    assert details["change"] == "the distribution changed"
    assert details["p_value"] <= details["alpha"] == float(f"{alpha:.3g}")
    assert details["evidence"] and all("token" in e for e in details["evidence"])
    # Tested every 20 answers after the 30 of the reference: the change at 200 is seen at the
    # end of the first window that holds only changed answers, or the one before.
    assert (
        200 + WINDOW - 1 - WINDOW
        <= (alarm.ts - _stream(1)[0].ts).total_seconds() / 60
        < 200 + 2 * WINDOW
    )
    assert "substitut" not in json.dumps(alarm.details)


def test_the_changed_distribution_is_adopted_after_adopt_after_and_not_raised_again() -> None:
    config = DetectionConfig.model_validate({"model_change": {"adopt_after": "1h"}})
    transitions = replay(_stream(600, shift_from=200), config)
    moves = [(t.new, t.reasons) for t in transitions[1:]]
    assert moves == [(Status.DEGRADED, ["model_change"]), (Status.OPERATIONAL, [])]
    assert (transitions[2].ts - transitions[1].ts).total_seconds() >= 3600


def test_a_distribution_that_comes_back_clears_the_alarm() -> None:
    rng = random.Random(4)
    results = [drift_probe(i, rng, 1.0 if 200 <= i < 240 else 0.0) for i in range(400)]
    transitions = replay(results, DetectionConfig())
    moves = [(t.new, t.reasons) for t in transitions[1:]]
    assert moves == [(Status.DEGRADED, ["model_change"]), (Status.OPERATIONAL, [])]
    assert transitions[2].ts < results[-1].ts


def test_answer_texts_of_a_listed_canary_are_tested_where_there_are_no_logprobs() -> None:
    config = DetectionConfig.model_validate({"model_change": {"answers": ["poem"]}})
    rng = random.Random(5)
    words = ["waves", "salt", "tide", "foam", "gulls", "shore"]
    other = ["the", "ocean", "is", "vast", "and", "deep"]

    def answer(pool: list[str]) -> str:
        return " ".join(rng.choice(pool) for _ in range(6))

    results = [
        minute_probe(
            i,
            target="anthropic/claude-haiku",
            canary="poem",
            answer=answer(words if i < 200 else other),
        )
        for i in range(300)
    ]
    transitions = replay(results, config)
    [alarm] = [t for t in transitions if t.new is Status.DEGRADED]
    assert alarm.details["model_change"]["field"] == "answers"
    assert 200 <= (alarm.ts - results[0].ts).total_seconds() / 60 < 240


def test_answers_of_a_canary_not_listed_are_not_tested() -> None:
    results = [
        minute_probe(i, canary="capital", answer="Canberra" if i < 200 else "Sydney")
        for i in range(300)
    ]
    assert [t for t in replay(results, DetectionConfig()) if t.new is Status.DEGRADED] == []


def test_the_level_of_each_test_is_the_monthly_allowance_over_a_months_tests() -> None:
    config = DetectionConfig()
    # One probe a minute, windows of 20: 2160 tests a month; a third of one false alarm.
    assert config.drift_alpha(60.0, 1) == (1 / 3) / 2160
    assert config.drift_alpha(60.0, 2) == (1 / 3) / 4320
    explicit = DetectionConfig.model_validate({"model_change": {"alpha": 0.01}})
    assert explicit.drift_alpha(60.0, 5) == 0.01
