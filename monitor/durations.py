"""Durations as people write them in config and on the command line: `500ms`, `30s`, `5m`, `2h`, `30d`."""

from __future__ import annotations

import math
import re

MAX_SECONDS = 100 * 365 * 86400.0
"""The longest duration accepted (100 years): past it a date would not fit a `datetime`."""


class DurationOutOfRange(ValueError):
    """A well-formed duration that is longer than `MAX_SECONDS`."""


_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}
_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)")


def parse_duration(value: object) -> float:
    """Return `value` in seconds.

    Accepts a number (seconds) or a string of one or more `<number><unit>` parts (`1h30m`),
    finite and at most `MAX_SECONDS` (YAML's `.inf` and `.nan` are numbers too). Raises
    ValueError with a message fit for a user otherwise.
    """
    if isinstance(value, bool):
        raise ValueError(f"expected a duration such as 30s or 5m, got {value!r}")
    if isinstance(value, int | float):
        if isinstance(value, float) and not math.isfinite(value):
            shown = ".nan" if math.isnan(value) else ("-.inf" if value < 0 else ".inf")
            raise ValueError(f"a duration must be a finite number of seconds, got {shown}")
        if value < 0:
            raise ValueError("a duration cannot be negative")
        if value > MAX_SECONDS:  # compared before float(): a huge int would overflow it
            raise DurationOutOfRange(f"{value!r} s is too long a duration; the most is 100 years")
        return float(value)
    if not isinstance(value, str):
        raise ValueError(f"expected a duration such as 30s or 5m, got {value!r}")
    text = value.strip().lower().replace(" ", "")
    if not text:
        raise ValueError("expected a duration such as 30s or 5m, got an empty string")
    pos, total = 0, 0.0
    while pos < len(text):
        match = _PART.match(text, pos)
        if match is None:
            raise ValueError(
                f"{value!r} is not a duration; use a number and a unit (ms, s, m, h, d)"
            )
        total += float(match.group(1)) * _UNITS[match.group(2)]
        pos = match.end()
    return _bounded(total, repr(value))


def _bounded(seconds: float, shown: str) -> float:
    if not seconds <= MAX_SECONDS:  # also catches inf (a part of 400 digits)
        raise DurationOutOfRange(f"{shown} is too long a duration; the most is 100 years (36500d)")
    return seconds


def format_duration(seconds: float) -> str:
    """The shortest readable form of `seconds` (`90` → `1m30s`, `0.5` → `500ms`)."""
    if seconds < 1:
        return f"{round(seconds * 1000)}ms"
    out, rest = [], round(seconds)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if rest >= size:
            out.append(f"{rest // size}{unit}")
            rest %= size
    return "".join(out) or "0s"
