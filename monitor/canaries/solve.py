"""The right answer to every built-in canary prompt, computed from the prompt text alone.

    solve("What is 17 * 23? Reply with the number only.")   # "391"
    solve("Tell me a joke.")                                 # None: not a canary brownout knows

The simulator answers with this (or perturbs it to answer wrongly), so it is cheap (a handful
of regular expressions) and tolerant of where the prompt sits in a longer text. It knows every
generator's format (`monitor.canaries.generators`) and every default canary
(`monitor.canaries.defaults`); tests hold all three together.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from fractions import Fraction
from typing import Any

from monitor.canaries import words
from monitor.canaries.generators import min_factor

CAPITALS = {
    "argentina": "Buenos Aires",
    "australia": "Canberra",
    "brazil": "Brasília",
    "canada": "Ottawa",
    "chile": "Santiago",
    "china": "Beijing",
    "egypt": "Cairo",
    "france": "Paris",
    "germany": "Berlin",
    "india": "New Delhi",
    "italy": "Rome",
    "japan": "Tokyo",
    "kenya": "Nairobi",
    "mexico": "Mexico City",
    "morocco": "Rabat",
    "new zealand": "Wellington",
    "nigeria": "Abuja",
    "norway": "Oslo",
    "peru": "Lima",
    "poland": "Warsaw",
    "portugal": "Lisbon",
    "south africa": "Pretoria",
    "spain": "Madrid",
    "switzerland": "Bern",
    "turkey": "Ankara",
    "the united kingdom": "London",
    "the united states": "Washington, D.C.",
    "united kingdom": "London",
    "united states": "Washington, D.C.",
}

_OPERATORS: dict[str, Callable[[Fraction, Fraction], Fraction]] = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "−": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "×": lambda a, b: a * b,
    "x": lambda a, b: a * b,
    "/": lambda a, b: a / b,
    "÷": lambda a, b: a / b,
}

_JSON_ECHO = re.compile(
    r'the key "(\w+)" set to the string "([^"]*)" and the key "(\w+)" set to the number (-?\d+)'
)
_WORDS = re.compile(r'Write the number "([A-Za-z ,\-]+)" in digits')
_PRIME = re.compile(r"Is (\d+) a prime number\?")
_SORT = re.compile(r"Sort these numbers from smallest to largest:\s*(-?\d+(?:\s*,\s*-?\d+)*)")
_ARITHMETIC = re.compile(r"What is (-?\d+(?:\.\d+)?)\s*([-+−*×x/÷])\s*(-?\d+(?:\.\d+)?)\s*\?")
_COUNT = re.compile(r"List the numbers from (\d+) to (\d+) in order, separated by commas")
_RECALL = re.compile(r"What is the code of record (\d+)\? Reply with the number only")
_CAPITAL = re.compile(r"What is the capital (?:city )?of ([A-Za-z .'\-]+?)\s*\?")


def solve(prompt: str) -> str | None:
    """The correct reply to a built-in canary prompt, as a model told to be terse would give it;
    None when the prompt is not one brownout makes."""
    if m := _RECALL.search(prompt):
        found = re.search(rf"^Record {m.group(1)}: code (\d+)\.$", prompt, re.MULTILINE)
        return found.group(1) if found else None
    if m := _JSON_ECHO.search(prompt):
        key, value, number_key, number = m.groups()
        return json.dumps({key: value, number_key: int(number)})
    if m := _WORDS.search(prompt):
        n = words.from_words(m.group(1))
        return None if n is None else str(n)
    if m := _PRIME.search(prompt):
        n = int(m.group(1))
        return "yes" if n >= 2 and min_factor(n) == n else "no"
    if m := _SORT.search(prompt):
        numbers = sorted(int(x) for x in m.group(1).split(","))
        return ", ".join(map(str, numbers))
    if m := _COUNT.search(prompt):
        return ", ".join(str(n) for n in range(int(m.group(1)), int(m.group(2)) + 1))
    if m := _ARITHMETIC.search(prompt):
        return _arithmetic(m.group(1), m.group(2), m.group(3))
    if m := _CAPITAL.search(prompt):
        return CAPITALS.get(m.group(1).strip().lower())
    return None


def _arithmetic(left: str, op: str, right: str) -> str | None:
    a, b = Fraction(left), Fraction(right)
    if op in "/÷" and b == 0:
        return None
    value = _OPERATORS[op](a, b)
    if value.denominator == 1:
        return str(value.numerator)
    return f"{float(value):.6g}"


_SET_TO = r"""\b{key}\b["'`]?\s*(?:set to|=|:|as|of)\s*(?:the (?:string|number|value)\s*)?(?:"([^"]*)"|'([^']*)'|(-?\d+(?:\.\d+)?)|(true|false))"""


def solve_tool_call(
    prompt: str, tools: list[tuple[str, dict[str, Any]]], choice: str = "auto"
) -> tuple[str, dict[str, Any]]:
    """The call a tool canary's prompt asks for: (the tool's name, its arguments).

    The tool is the one `choice` names, else the first offered tool the prompt names, else the
    first offered. Each argument is the value the prompt gives it (`city set to "Paris"`,
    `days = 3`), else the schema's `const`, first `enum` value or `default`, else a value of its
    type; the required ones always, the others when the prompt gives them."""
    names = [name for name, _ in tools]
    name = choice if choice in names else next((n for n in names if n in prompt), names[0])
    schema = dict(tools)[name]
    properties = schema.get("properties") or {}
    required = set(schema.get("required") or [])
    arguments: dict[str, Any] = {}
    for key, spec in properties.items():
        said = re.search(_SET_TO.format(key=re.escape(key)), prompt, re.IGNORECASE)
        if said:
            text, single, number, boolean = said.groups()
            if number is not None:
                arguments[key] = float(number) if "." in number else int(number)
            elif boolean is not None:
                arguments[key] = boolean.lower() == "true"
            else:
                arguments[key] = text if text is not None else single
        elif key in required:
            arguments[key] = _example(spec if isinstance(spec, dict) else {})
    return name, arguments


def _example(spec: dict[str, Any]) -> Any:
    """A value that meets a simple JSON Schema: const, enum, default, else one of its type."""
    for key in ("const", "default"):
        if key in spec:
            return spec[key]
    if spec.get("enum"):
        return spec["enum"][0]
    kind = spec.get("type")
    kind = kind[0] if isinstance(kind, list) and kind else kind
    return {
        "string": "example",
        "integer": 1,
        "number": 1,
        "boolean": True,
        "array": [],
        "object": {},
        "null": None,
    }.get(str(kind), "example")
