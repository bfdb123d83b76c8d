"""Canary checks and the normalisation of answers (monitor.canaries.checks)."""

from __future__ import annotations

import random
from typing import Any

import pytest
from pydantic import ValidationError

from monitor.canaries.checks import check, clean, extract_json, extract_number, normalise
from monitor.canaries.expect import Expect
from monitor.canaries.generators import GENERATORS


@pytest.mark.parametrize(
    ("raw", "cleaned"),
    [
        ("  391  ", "391"),
        ("391.", "391"),
        ("391!", "391"),
        ("**391**", "391"),
        ("__Paris__", "Paris"),
        ("*Paris*", "Paris"),
        ('"Paris"', "Paris"),
        ("'Paris'", "Paris"),
        ("“Paris”", "Paris"),
        ("`391`", "391"),
        ("```\n391\n```", "391"),
        ('```json\n{"a": 1}\n```', '{"a": 1}'),
        ('**"Paris".**', "Paris"),
        ("Answer: 391", "391"),
        ("Final answer = 391.", "391"),
        ("Wait...", "Wait..."),
        ("3.5", "3.5"),
        ("", ""),
    ],
)
def test_clean_takes_off_the_decoration_models_add(raw: str, cleaned: str) -> None:
    assert clean(raw) == cleaned


def test_normalise_folds_case_and_inner_space_unless_asked() -> None:
    assert normalise("  New   York ") == "new york"
    assert normalise("New York", case_sensitive=True) == "New York"


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("391", 391),
        ("The answer is 391.", 391),
        ("17 * 23 = 391", 391),
        ("391 (that is 17 times 23)", 391),
        ("1,234", 1234),
        ("It comes to 1,234,567.", 1234567),
        ("-42", -42),
        ("−42", -42),
        ("The result is -7.", -7),
        ("3.25", 3.25),
        ("approximately .5", 0.5),
        ("1e3", 1000),
        ("**-12.5**", -12.5),
        ("no digits here", None),
        ("", None),
    ],
)
def test_extract_number_finds_the_number_a_reply_answers_with(
    text: str, number: float | None
) -> None:
    assert extract_number(text) == number


# Replies real models gave (SmolLM2-135M on llama.cpp, and larger chat models), restating the
# question before the answer; the canary knows its operands.
RESTATED = [
    ("571 * 817 is 466,507", [571, 817], 466507),
    ("571 times 817 equals 466507", [571, 817], 466507),
    ("571 times 817 equals 466507, which is a large number.", [571, 817], 466507),
    ("571 × 817 = 466,507", [571, 817], 466507),
    ("472 - 456 is 12.", [472, 456], 12),
    ("189 + 801 = 189 * 1", [189, 801], 1),
    ("The result of 571 * 817 is 466,507, not 571.", [571, 817], 466507),
    ("17 multiplied by 23 gives 391.", [17, 23], 391),
    ("**391** (17 × 23)", [17, 23], 391),
    ("391", [17, 23], 391),
    ("5 * 1 is 5", [5, 1], 5),
    ("5", [5, 1], 5),
    ("12 + 12 is 24", [12, 12], 24),
    ("The answer is 466,507.", [571, 817], 466507),
]


@pytest.mark.parametrize(("text", "operands", "number"), RESTATED)
def test_a_reply_that_restates_the_question_is_read_past_its_operands(
    text: str, operands: list[float], number: float
) -> None:
    assert extract_number(text, operands) == number
    assert check(Expect(number=number, operands=operands), text).ok


def test_the_operands_of_a_generated_sum_are_known_to_its_check() -> None:
    generated = GENERATORS["arithmetic"](random.Random(7))
    a, _, b = generated.prompt.removeprefix("What is ").partition("?")[0].split(" ")
    assert generated.expect.operands == [float(a), float(b)]
    assert check(generated.expect, f"{a} times {b} equals {generated.answer}").ok


@pytest.mark.parametrize(
    ("expect", "answer", "ok"),
    [
        # equals: normalised, numbers compare as numbers
        ({"equals": "391"}, "391", True),
        ({"equals": "391"}, " 391.\n", True),
        ({"equals": "391"}, "**391**", True),
        ({"equals": "391"}, "391.0", True),
        ({"equals": 1234}, "1,234", True),
        ({"equals": "391"}, "392", False),
        ({"equals": "391"}, "The answer is 391", False),
        ({"equals": "Canberra"}, "canberra", True),
        ({"equals": "Canberra"}, '"Canberra."', True),
        ({"equals": "Canberra"}, "Sydney", False),
        ({"equals": "Canberra", "case_sensitive": True}, "canberra", False),
        ({"equals": "Canberra", "case_sensitive": True}, "Canberra.", True),
        ({"equals": "New York"}, "new  york", True),
        # contains
        ({"contains": "Canberra"}, "The capital is Canberra.", True),
        ({"contains": "Canberra"}, "The capital is Sydney.", False),
        ({"contains": "Canberra", "case_sensitive": True}, "CANBERRA", False),
        # regex: on the cleaned text, case-insensitive unless asked
        ({"regex": r"^yes\b"}, "Yes.", True),
        ({"regex": r"^yes\b"}, "**Yes**, it is prime.", True),
        ({"regex": r"^yes\b"}, "No", False),
        ({"regex": r"^yes\b"}, "yesterday", False),
        ({"regex": r"^yes\b", "case_sensitive": True}, "Yes", False),
        # number: extracted, with tolerance
        ({"number": 391}, "The answer is 391.", True),
        ({"number": 391}, "390", False),
        ({"number": 391}, "nothing", False),
        ({"number": 3.14, "tolerance": 0.01}, "3.1416", True),
        ({"number": 3.14, "tolerance": 0.001}, "3.1416", False),
        ({"number": -164}, "-164", True),
        ({"number": -164}, "164", False),
        ({"number": 0.3}, "0.30000000000000004", True),
        ({"number": 712}, "712 (seven hundred twelve)", True),
        # one_of
        ({"one_of": ["yes", "no"]}, "No.", True),
        ({"one_of": ["yes", "no"]}, "maybe", False),
        ({"one_of": [1, 2, 3]}, "2", True),
        # json_schema: parsed from fences or prose, validated
        ({"json_schema": {"type": "object", "required": ["a"]}}, '{"a": 1}', True),
        ({"json_schema": {"type": "object", "required": ["a"]}}, '```json\n{"a": 1}\n```', True),
        ({"json_schema": {"type": "object", "required": ["a"]}}, 'Here: {"a": 1} done', True),
        ({"json_schema": {"type": "object", "required": ["a"]}}, '{"b": 1}', False),
        ({"json_schema": {"type": "object"}}, "not json at all", False),
        ({"json_schema": {"type": "object"}}, "{broken", False),
        ({"json_schema": {"type": "array", "items": {"type": "integer"}}}, "[1, 2, 3]", True),
        ({"json_schema": {"properties": {"n": {"const": 7}}}}, '{"n": 8}', False),
    ],
)
def test_a_check_passes_exactly_the_right_answers(
    expect: dict[str, Any], answer: str, ok: bool
) -> None:
    verdict = check(Expect(**expect), answer)
    assert verdict.ok is ok
    assert (verdict.reason is None) is ok


@pytest.mark.parametrize(
    ("expect", "answer", "words"),
    [
        ({"number": 391}, "390", "expected 391, got 390"),
        ({"number": 391}, "none", "found no number"),
        ({"equals": "Canberra"}, "Sydney", "'Sydney'"),
        ({"json_schema": {"required": ["a"]}}, "{}", "'a' is a required property"),
        ({"json_schema": {"properties": {"n": {"const": 7}}}}, '{"n": 8}', "at n"),
        ({"json_schema": {"type": "object"}}, "prose", "expected JSON"),
    ],
)
def test_a_failed_check_says_briefly_why(expect: dict[str, Any], answer: str, words: str) -> None:
    reason = check(Expect(**expect), answer).reason
    assert reason is not None and words in reason


def test_a_reason_stays_short_however_long_the_answer() -> None:
    reason = check(Expect(equals="391"), "x" * 10_000).reason
    assert reason is not None and len(reason) <= 200


def test_extract_json_rejects_a_reply_without_json() -> None:
    with pytest.raises(ValueError):
        extract_json("just words")


@pytest.mark.parametrize(
    "expect",
    [
        {"json_schema": {"type": "no-such-type"}},
        {"regex": "("},
        {"equals": "a", "contains": "a"},
        {},
    ],
)
def test_a_broken_expect_is_refused_at_the_door(expect: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        Expect(**expect)


@pytest.mark.parametrize("expect", [{"equals": True}, {"one_of": ["maybe", False]}])
def test_an_unquoted_yes_or_no_in_yaml_is_refused_with_a_hint(expect: dict[str, Any]) -> None:
    with pytest.raises(ValidationError, match="quote them"):
        Expect(**expect)
