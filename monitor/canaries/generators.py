"""Generated canaries: each probe gets a fresh prompt whose expected answer is computed.

A fixed prompt can be cached (or memorised) by a provider; a fresh one cannot, so a quality
drop shows. Each generator takes a `random.Random` (inject a seeded one in tests) and returns a
`Generated`: the prompt, the `Expect` that checks it, and the canonical right answer.

    GENERATORS["arithmetic"](random.Random(7))
    # Generated(prompt="What is 512 - 87? Reply with the number only.",
    #           expect=Expect(number=425, operands=[512, 87]), answer="425", max_tokens=16)

Adding a generator is one function and one entry in `GENERATORS`; `monitor.canaries.solve`
must learn its prompt format too (a test holds them together).
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import dataclass

from monitor.canaries import words
from monitor.canaries.expect import Expect


@dataclass(frozen=True, slots=True)
class Generated:
    """One generated canary. `max_tokens` is the least the answer needs; the probe asks for at
    least that much even when the canary's own `max_tokens` is smaller."""

    prompt: str
    expect: Expect
    answer: str
    max_tokens: int = 16


Generator = Callable[[random.Random], Generated]

_OPS: dict[str, Callable[[int, int], int]] = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
}


def arithmetic(rng: random.Random) -> Generated:
    """Two fresh 2–3 digit operands and one of + - *."""
    a, b = rng.randint(10, 999), rng.randint(10, 999)
    op = rng.choice(list(_OPS))
    value = _OPS[op](a, b)
    return Generated(
        f"What is {a} {op} {b}? Reply with the number only.",
        Expect(number=value, operands=[a, b]),
        str(value),
    )


def words_to_number(rng: random.Random) -> Generated:
    """A number up to 999,999 spelt out in English, to be written in digits."""
    n = rng.randint(1, 999_999)
    return Generated(
        f'Write the number "{words.to_words(n)}" in digits. Reply with the number only.',
        Expect(number=n),
        str(n),
    )


PRIME_RANGE = (1_000, 10_000)


def is_prime(rng: random.Random) -> Generated:
    """Is N prime? Half the time it is; when it is not, N has no factor below 7, so the
    answer cannot be read off its last digit or digit sum."""
    want_prime = rng.random() < 0.5
    while True:
        n = rng.randrange(*PRIME_RANGE)
        if _is_prime(n) == want_prime and (want_prime or min_factor(n) >= 7):
            break
    answer = "yes" if want_prime else "no"
    return Generated(
        f"Is {n} a prime number? Reply with yes or no only.",
        Expect(regex=rf"^{answer}\b"),
        answer,
    )


def sort_numbers(rng: random.Random) -> Generated:
    """Five to seven distinct numbers below 100, to be sorted ascending."""
    numbers = rng.sample(range(1, 100), rng.randint(5, 7))
    ordered = sorted(numbers)
    # Commas, spaces or a JSON-style list all pass; the order and the numbers must be exact.
    pattern = r"^\[?\s*" + r"(?:\s*,\s*|\s+)".join(map(str, ordered)) + r"\s*\]?$"
    return Generated(
        "Sort these numbers from smallest to largest: "
        f"{', '.join(map(str, numbers))}. Reply with the sorted numbers only, separated by commas.",
        Expect(regex=pattern),
        ", ".join(map(str, ordered)),
        max_tokens=32,
    )


_JSON_KEYS = ("city", "colour", "animal", "fruit", "planet", "metal")
_JSON_VALUES = {
    "city": ("Paris", "Lima", "Oslo", "Nairobi", "Kyoto"),
    "colour": ("green", "violet", "amber", "teal", "crimson"),
    "animal": ("otter", "heron", "lynx", "gecko", "bison"),
    "fruit": ("mango", "fig", "quince", "lychee", "plum"),
    "planet": ("Mars", "Venus", "Saturn", "Neptune", "Mercury"),
    "metal": ("copper", "zinc", "cobalt", "nickel", "tin"),
}
_JSON_NUMBER_KEYS = ("count", "year", "score", "level")


def json_echo(rng: random.Random) -> Generated:
    """A small JSON object to produce exactly (structured output), checked with json_schema."""
    key, number_key = rng.choice(_JSON_KEYS), rng.choice(_JSON_NUMBER_KEYS)
    value, number = rng.choice(_JSON_VALUES[key]), rng.randint(1, 9999)
    schema = {
        "type": "object",
        "properties": {key: {"const": value}, number_key: {"const": number}},
        "required": [key, number_key],
    }
    return Generated(
        json_prompt(key, value, number_key, number),
        Expect(json_schema=schema),
        json.dumps({key: value, number_key: number}),
        max_tokens=48,
    )


RECALL_QUESTION = "What is the code of record {key}? Reply with the number only."
CHARS_PER_TOKEN = 4  # the estimate brownout uses everywhere a provider gives no count


def recall(tokens: int) -> Generator:
    """A long prompt of about `tokens` tokens: numbered records with fresh codes, and a question
    about one of them (a needle in a haystack): the prompt is made, not stored in the config,
    and its answer is checked like any other."""

    def make(rng: random.Random) -> Generated:
        count = max(4, tokens * CHARS_PER_TOKEN // len("Record 0000: code 00000.\n"))
        codes = [rng.randint(10_000, 99_999) for _ in range(count)]
        key = rng.randrange(count)
        lines = "".join(f"Record {i:04d}: code {code}.\n" for i, code in enumerate(codes))
        question = RECALL_QUESTION.format(key=f"{key:04d}")
        return Generated(
            f"Here are {count} records.\n{lines}{question}",
            Expect(number=codes[key]),
            str(codes[key]),
        )

    make.__doc__ = f"About {tokens:,} tokens of records, and the code of one of them."
    return make


def json_prompt(key: str, value: str, number_key: str, number: int) -> str:
    """The prompt of `json_echo` (also used by a fixed default canary)."""
    return (
        f'Reply with only a JSON object that has the key "{key}" set to the string "{value}" '
        f'and the key "{number_key}" set to the number {number}.'
    )


def _is_prime(n: int) -> bool:
    return n >= 2 and min_factor(n) == n


def min_factor(n: int) -> int:
    """The smallest prime factor of n ≥ 2 (n itself when n is prime)."""
    if n % 2 == 0:
        return 2
    f = 3
    while f * f <= n:
        if n % f == 0:
            return f
        f += 2
    return n


GENERATORS: dict[str, Generator] = {
    "arithmetic": arithmetic,
    "words_to_number": words_to_number,
    "is_prime": is_prime,
    "sort_numbers": sort_numbers,
    "json_echo": json_echo,
    "long_1k": recall(1_000),
    "long_10k": recall(10_000),
}
