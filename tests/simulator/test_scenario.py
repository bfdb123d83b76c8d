"""Scenario files: validation, layering, phases over time, answers."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from monitor.errors import UsageError
from monitor.simulator import Scenario, load_scenario
from monitor.simulator.answers import answer_for, correct_answer, tokens, wrong_answer

SCENARIOS = sorted((Path(__file__).parents[2] / "scenarios").glob("*.yaml"))


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.name for p in SCENARIOS])
def test_every_shipped_scenario_is_valid(path: Path) -> None:
    scenario = load_scenario(path)
    assert scenario.name == path.stem
    assert scenario.behaviour("gpt-4o-mini", 0.0) is not None


@pytest.mark.parametrize(
    ("data", "complaint"),
    [
        ({"modles": {}}, "modles"),
        ({"defaults": {"ttft": "soon"}}, "defaults.ttft"),
        ({"defaults": {"errors": {"on_fire": 0.1}}}, "unknown error kind(s) on_fire"),
        ({"defaults": {"errors": {"hang": 0.7, "overloaded": 0.7}}}, "add up to at most 1"),
        ({"defaults": {"wrong_rate": 2}}, "wrong_rate"),
        ({"models": {"m": {"phases": [{"until": "5m", "colour": "red"}]}}}, "colour"),
        ({"answers": {"(": "x"}}, "answers"),
    ],
)
def test_a_broken_scenario_is_refused_with_the_place_named(
    data: dict[str, object], complaint: str
) -> None:
    with pytest.raises(UsageError, match="invalid scenario") as raised:
        Scenario.from_dict(data)
    assert complaint in str(raised.value)


def test_a_missing_or_broken_file_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="cannot read scenario"):
        load_scenario(tmp_path / "absent.yaml")
    (tmp_path / "bad.yaml").write_text("models: [\n")
    with pytest.raises(UsageError, match="not valid YAML"):
        load_scenario(tmp_path / "bad.yaml")


def test_layers_are_defaults_then_model_then_phase() -> None:
    scenario = Scenario.from_dict(
        {
            "defaults": {"ttft": "1s", "tokens_per_s": 10},
            "models": {
                "m": {"ttft": "2s", "phases": [{"until": "1m"}, {"tokens_per_s": 99}]},
                "claude-*": {"answer": "hello"},
            },
        }
    )
    early, late = scenario.behaviour("m", 0.0), scenario.behaviour("m", 61.0)
    assert early is not None and (early.ttft, early.tokens_per_s) == (2.0, 10.0)
    assert late is not None and (late.ttft, late.tokens_per_s) == (2.0, 99.0)
    pattern = scenario.behaviour("claude-haiku", 0.0)
    assert pattern is not None and (pattern.ttft, pattern.answer) == (1.0, "hello")
    assert scenario.behaviour("gpt-4o", 0.0) is None


def test_a_cycle_repeats_the_timeline() -> None:
    scenario = Scenario.from_dict(
        {"cycle": "10m", "models": {"m": {"phases": [{"until": "5m"}, {"error": "hang"}]}}}
    )
    states = [scenario.behaviour("m", minutes * 60.0) for minutes in (1, 6, 11, 16)]
    assert [dict(b.errors) if b else None for b in states] == [{}, {"hang": 1.0}, {}, {"hang": 1.0}]


def test_error_shorthand_and_table_agree() -> None:
    short = Scenario.from_dict({"defaults": {"error": "overloaded", "error_rate": 0.3}})
    table = Scenario.from_dict({"defaults": {"errors": {"overloaded": 0.3}}})
    assert short.behaviour("x", 0) == table.behaviour("x", 0)


@pytest.mark.parametrize(
    ("right", "wrong"),
    [("391", "392"), ("Yes", "No"), ("no", "yes"), ("2.5", "3.5"), ("Paris", "I am not sure.")],
)
def test_a_wrong_answer_differs_from_the_right_one(right: str, wrong: str) -> None:
    assert wrong_answer(right) == wrong


def test_scenario_answers_come_first_then_the_solver_then_ok() -> None:
    scenario = Scenario.from_dict({"answers": {"capital of France": "Paris"}})
    assert correct_answer(scenario, "What is the capital of France?") == "Paris"
    assert correct_answer(scenario, "Tell me a secret") == "OK"


def test_answer_modes() -> None:
    rng = random.Random(1)
    scenario = Scenario.from_dict(
        {
            "answers": {"17": "391"},
            "models": {
                "right": {},
                "wrong": {"answer": "wrong"},
                "text": {"answer": "hi there"},
                "flaky": {"wrong_rate": 1.0},
            },
        }
    )

    def said(model: str) -> str:
        behaviour = scenario.behaviour(model, 0)
        assert behaviour is not None
        return answer_for(scenario, behaviour, "17 * 23?", rng)

    assert [said(m) for m in ("right", "wrong", "text", "flaky")] == [
        "391",
        "392",
        "hi there",
        "392",
    ]


@pytest.mark.parametrize(
    ("text", "pieces"),
    [("391", ["391"]), ("1 2 3", ["1", " 2", " 3"]), ("", []), ("abcdefghij", ["abcdef", "ghij"])],
)
def test_text_is_split_into_token_sized_pieces(text: str, pieces: list[str]) -> None:
    assert tokens(text) == pieces
