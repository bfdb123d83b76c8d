"""Generated canaries, the default canaries and the solver the simulator answers with."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from monitor.canaries import words
from monitor.canaries.checks import check
from monitor.canaries.defaults import DEFAULT_CANARIES
from monitor.canaries.generators import GENERATORS, PRIME_RANGE, min_factor
from monitor.canaries.solve import solve
from monitor.config.schema import CanaryConfig

SAMPLES = 2000


@pytest.mark.parametrize("name", sorted(GENERATORS))
def test_the_solver_answers_every_generated_prompt_and_the_check_passes_it(name: str) -> None:
    rng = random.Random(f"solve-{name}")
    for _ in range(SAMPLES):
        generated = GENERATORS[name](rng)
        answer = solve(generated.prompt)
        assert answer == generated.answer, generated.prompt
        assert check(generated.expect, answer).ok, generated.prompt


def _wrong(answer: str) -> str:
    """A near miss, as a degraded model would give it."""
    if answer in ("yes", "no"):
        return "no" if answer == "yes" else "yes"
    if answer.startswith("{"):
        value = json.loads(answer)
        key = next(k for k, v in value.items() if isinstance(v, int))
        return json.dumps(value | {key: value[key] + 1})
    if "," in answer:
        numbers = answer.split(", ")
        return ", ".join([numbers[1], numbers[0], *numbers[2:]])
    return str(int(answer) + 1)


@pytest.mark.parametrize("name", sorted(GENERATORS))
def test_a_near_miss_fails_every_generated_check(name: str) -> None:
    rng = random.Random(f"wrong-{name}")
    for _ in range(SAMPLES // 4):
        generated = GENERATORS[name](rng)
        assert not check(generated.expect, _wrong(generated.answer)).ok, generated.prompt


@pytest.mark.parametrize("name", sorted(GENERATORS))
def test_generated_prompts_are_fresh_each_time(name: str) -> None:
    rng = random.Random(f"fresh-{name}")
    prompts = [GENERATORS[name](rng).prompt for _ in range(500)]
    assert len(set(prompts)) > 400


@pytest.mark.parametrize("name", sorted(GENERATORS))
def test_a_seeded_generator_repeats_itself(name: str) -> None:
    first = [GENERATORS[name](random.Random(3)) for _ in range(5)]
    again = [GENERATORS[name](random.Random(3)) for _ in range(5)]
    assert first == again


def test_is_prime_asks_yes_and_no_questions_in_balance() -> None:
    rng = random.Random("balance")
    answers = [GENERATORS["is_prime"](rng).answer for _ in range(SAMPLES)]
    assert 0.45 < answers.count("yes") / SAMPLES < 0.55


def test_is_prime_never_asks_about_an_obviously_composite_number() -> None:
    rng = random.Random("obvious")
    for _ in range(SAMPLES):
        generated = GENERATORS["is_prime"](rng)
        n = int(generated.prompt.split()[1])
        assert PRIME_RANGE[0] <= n < PRIME_RANGE[1]
        assert min_factor(n) >= 7


@pytest.mark.parametrize(
    ("n", "text"),
    [
        (0, "zero"),
        (7, "seven"),
        (13, "thirteen"),
        (40, "forty"),
        (45, "forty-five"),
        (100, "one hundred"),
        (712, "seven hundred twelve"),
        (1000, "one thousand"),
        (12345, "twelve thousand three hundred forty-five"),
        (900_019, "nine hundred thousand nineteen"),
        (1_000_001, "one million one"),
        (
            999_999_999,
            "nine hundred ninety-nine million nine hundred ninety-nine thousand "
            "nine hundred ninety-nine",
        ),
    ],
)
def test_numbers_are_written_in_words_and_read_back(n: int, text: str) -> None:
    assert words.to_words(n) == text
    assert words.from_words(text) == n


def test_words_read_back_for_every_number_below_ten_thousand() -> None:
    assert all(words.from_words(words.to_words(n)) == n for n in range(10_000))


@pytest.mark.parametrize("text", ["one hundred and twelve", "One Hundred, Twelve"])
def test_number_words_written_other_ways_still_read(text: str) -> None:
    assert words.from_words(text) == 112


@pytest.mark.parametrize("text", ["", "seven apples", "lots"])
def test_text_that_is_not_number_words_reads_as_none(text: str) -> None:
    assert words.from_words(text) is None


@pytest.mark.parametrize("canary", DEFAULT_CANARIES, ids=lambda c: str(c["name"]))
def test_every_default_canary_is_valid_and_the_solver_passes_it(canary: dict[str, object]) -> None:
    config = CanaryConfig.model_validate(canary)
    if config.generator is not None:
        generated = GENERATORS[config.generator](random.Random(1))
        prompt, expect = generated.prompt, generated.expect
    else:
        assert config.prompt is not None and config.expect is not None
        prompt, expect = config.prompt, config.expect
    answer = solve(prompt)
    assert answer is not None
    assert check(expect, answer).ok


@pytest.mark.parametrize(
    ("prompt", "answer"),
    [
        ("What is 17 * 23? Reply with the number only.", "391"),
        ("What is 17 × 23?", "391"),
        ("What is 100 / 8?", "12.5"),
        ("What is 5 / 0?", None),
        ("Context first.\nWhat is 2 + 2? Reply with the number only.", "4"),
        ("What is the capital of Australia? Reply with the city name only.", "Canberra"),
        ("What is the capital of Atlantis?", None),
        ("Tell me a joke.", None),
        ("", None),
    ],
)
def test_the_solver_answers_what_it_knows_and_only_that(prompt: str, answer: str | None) -> None:
    assert solve(prompt) == answer


def test_a_canary_naming_an_unknown_generator_is_refused() -> None:
    with pytest.raises(ValidationError, match="unknown generator"):
        CanaryConfig(name="x", generator="no_such_generator")


def _shipped_canaries() -> list[dict[str, object]]:
    path = Path(__file__).resolve().parents[2] / "probes.yaml"
    return list(yaml.safe_load(path.read_text(encoding="utf-8")).get("canaries") or [])


@pytest.mark.parametrize("canary", _shipped_canaries(), ids=lambda c: str(c["name"]))
def test_the_solver_passes_every_canary_in_the_shipped_probes_yaml(
    canary: dict[str, object],
) -> None:
    test_every_default_canary_is_valid_and_the_solver_passes_it(canary)
