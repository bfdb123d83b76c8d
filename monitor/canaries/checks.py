"""Checking a canary's answer against its `Expect`: pure functions, no I/O.

    verdict = check(Expect(number=391), "The answer is **391**.")   # Verdict(ok=True)

Models decorate short answers (code fences, quotes, bold, a trailing period, a leading
"Answer:"); `clean` takes that off before any check, so a check fails on the answer, not its
wrapping. Checks are case-insensitive unless `case_sensitive` is set.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from monitor.canaries.expect import Expect

_REASON_MAX = 200

_FENCE = re.compile(r"^```[\w+\-]*[ \t]*\n?(.*?)\n?```$", re.DOTALL)
_INLINE_CODE = re.compile(r"^`([^`]*)`$")
_EMPHASIS = re.compile(r"^(\*\*|__|\*|_)(.+)\1$", re.DOTALL)
_BOLD = re.compile(r"\*\*(.+?)\*\*", re.DOTALL)  # anywhere: "**Yes**, it is prime."
_QUOTES = (('"', '"'), ("'", "'"), ("“", "”"), ("‘", "’"), ("«", "»"))
_LEAD_IN = re.compile(r"^(?:final answer|answer|result)\s*[:=]\s*", re.IGNORECASE)
_TRAILING_PUNCT = ".。!"  # dropped at the end ("391." is 391); an ellipsis ("...") is kept
_SPACES = re.compile(r"\s+")

# A number as models write it: optional sign (ASCII or Unicode minus), thousands separators,
# decimals, exponent. The sign only counts when it does not follow a word or digit ("17-23").
_NUMBER = re.compile(
    r"(?<![\w.])[-+−]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:[eE][-+]?\d+)?(?![\w])"
    r"|(?<![\w.])[-+−]?\.\d+(?![\w])"
)


@dataclass(frozen=True, slots=True)
class Verdict:
    """A check's result; `reason` says briefly why it failed (None when it passed)."""

    ok: bool
    reason: str | None = None


PASS = Verdict(True)


def clean(text: str) -> str:
    """`text` without its decoration: whitespace, code fences, surrounding quotes or emphasis,
    a leading "Answer:", a trailing period. Runs until nothing changes, so wrappers may nest
    (`**"Paris".**`). Case and inner spacing are kept."""
    previous = None
    text = _BOLD.sub(r"\1", text).strip()
    while text != previous:
        previous = text
        if m := _FENCE.match(text):
            text = m.group(1).strip()
        if m := _INLINE_CODE.match(text):
            text = m.group(1).strip()
        if m := _EMPHASIS.match(text):
            text = m.group(2).strip()
        for left, right in _QUOTES:
            if len(text) >= 2 and text.startswith(left) and text.endswith(right):
                text = text[1:-1].strip()
        text = _LEAD_IN.sub("", text)
        if text and text[-1] in _TRAILING_PUNCT and not text.endswith("..."):
            text = text[:-1].rstrip()
    return text


def normalise(text: str, *, case_sensitive: bool = False) -> str:
    """`clean(text)` with inner whitespace collapsed and, unless asked, case folded."""
    text = _SPACES.sub(" ", clean(text))
    return text if case_sensitive else text.casefold()


def parse_number(text: str) -> float | None:
    """The single number `text` is (after `clean`), else None: `"1,234"`, `"-3.5"`, `"391."`."""
    text = clean(text)
    m = _NUMBER.fullmatch(text)
    return _to_float(m.group(0)) if m else None


def extract_number(text: str, operands: Sequence[float] = ()) -> float | None:
    """The number a reply answers with: what follows the last `=` if there is one
    (`"17 * 23 = 391"`); then the first number when the reply starts with one
    (`"391 (17 × 23)"`), else the last (`"17 × 23 is 391."`). None when there is none.

    With the question's `operands`, a reply that restates the question first is read past it
    (`"571 * 817 is 466,507"`, `"571 times 817 equals 466507, which is large"`): the numbers
    that repeat the operands are skipped, each operand once, and the first other number is the
    answer; a reply of operands only (`"5"` to 5 * 1) answers with its last number."""
    text = clean(clean(text).rpartition("=")[2])
    found = [
        (m.start(), v) for m in _NUMBER.finditer(text) if (v := _to_float(m.group(0))) is not None
    ]
    if not found:
        return None
    values = [value for _, value in found]
    leading = found[0][0] == 0
    if operands:
        unstated = [abs(o) for o in operands]
        if not (leading and abs(values[0]) not in unstated):
            for value in values:
                if abs(value) in unstated:
                    unstated.remove(abs(value))
                    continue
                return value
            return values[-1]
    return values[0] if leading else values[-1]


def _to_float(token: str) -> float | None:
    try:
        value = float(token.replace(",", "").replace("−", "-"))
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def extract_json(text: str) -> Any:
    """The JSON value in a reply: the whole cleaned text, else the first object or array in it
    (models add prose around it). Raises ValueError when there is none."""
    body = clean(text)
    try:
        return json.loads(body)
    except ValueError:
        pass
    decoder = json.JSONDecoder()
    for i, char in enumerate(body):
        if char in "{[":
            try:
                return decoder.raw_decode(body, i)[0]
            except ValueError:
                continue
    raise ValueError("no JSON value in the reply")


def check(expect: Expect, answer: str) -> Verdict:
    """Whether `answer` meets `expect`. Pure; never raises for any answer text."""
    cs = expect.case_sensitive
    if expect.equals is not None:
        return _equals(answer, expect.equals, cs)
    if expect.one_of is not None:
        if any(_equals(answer, option, cs).ok for option in expect.one_of):
            return PASS
        return _fail(f"expected one of {', '.join(map(str, expect.one_of))}", answer)
    if expect.contains is not None:
        if normalise(expect.contains, case_sensitive=cs) in normalise(answer, case_sensitive=cs):
            return PASS
        return _fail(f"expected it to contain {expect.contains!r}", answer)
    if expect.regex is not None:
        flags = 0 if cs else re.IGNORECASE
        if re.search(expect.regex, clean(answer), flags):
            return PASS
        return _fail(f"expected a match for /{expect.regex}/", answer)
    if expect.number is not None:
        return _number(answer, expect.number, expect.tolerance, expect.operands or ())
    if expect.json_schema is not None:
        return _json_schema(answer, expect.json_schema)
    if (
        expect.tool_call is not None
    ):  # the tool calls are checked by canaries.tools; text alone fails
        return _fail(f"expected a call of {expect.tool_call.name}", answer)
    raise ValueError("an Expect with no check")  # unreachable: Expect validates exactly one


def _equals(answer: str, expected: str | int | float, case_sensitive: bool) -> Verdict:
    # Numbers compare as numbers, so "1,234", "1234.0" and 1234 agree.
    want_number = (
        float(expected) if isinstance(expected, int | float) else parse_number(str(expected))
    )
    if want_number is not None:
        got = parse_number(answer)
        if got is not None:
            return PASS if _close(got, want_number, 0.0) else _fail(f"expected {expected}", answer)
    if normalise(answer, case_sensitive=case_sensitive) == normalise(
        str(expected), case_sensitive=case_sensitive
    ):
        return PASS
    return _fail(f"expected {expected!r}", answer)


def _number(answer: str, expected: float, tolerance: float, operands: Sequence[float]) -> Verdict:
    got = extract_number(answer, operands)
    if got is None:
        return _fail(f"expected the number {_fmt(expected)}, found no number", answer)
    if _close(got, expected, tolerance):
        return PASS
    within = f" ± {_fmt(tolerance)}" if tolerance else ""
    return Verdict(False, f"expected {_fmt(expected)}{within}, got {_fmt(got)}")


def _close(got: float, expected: float, tolerance: float) -> bool:
    # A hair of relative slack so 0.1 + 0.2 style float noise never fails an exact check.
    return abs(got - expected) <= tolerance + 1e-9 * max(1.0, abs(expected))


def _json_schema(answer: str, schema: dict[str, Any]) -> Verdict:
    import jsonschema  # here, not at import: only canaries with a JSON Schema need it

    try:
        value = extract_json(answer)
    except ValueError:
        return _fail("expected JSON", answer)
    try:
        validator_class = jsonschema.validators.validator_for(schema)
        error = jsonschema.exceptions.best_match(validator_class(schema).iter_errors(value))
    except jsonschema.exceptions.SchemaError as exc:  # Expect validates schemas; belt and braces
        return Verdict(False, _bound(f"the json_schema is invalid: {exc.message}"))
    if error is None:
        return PASS
    path = "/".join(str(p) for p in error.absolute_path)
    where = f" at {path}" if path else ""
    return Verdict(False, _bound(f"JSON does not match the schema{where}: {error.message}"))


def _fmt(value: float) -> str:
    return str(int(value)) if value == int(value) and abs(value) < 1e15 else repr(value)


def _fail(expectation: str, answer: str) -> Verdict:
    got = _SPACES.sub(" ", answer.strip())
    if len(got) > 60:
        got = got[:59] + "…"
    return Verdict(False, _bound(f"{expectation}, got {got!r}"))


def _bound(text: str) -> str:
    return text if len(text) <= _REASON_MAX else text[: _REASON_MAX - 1] + "…"
