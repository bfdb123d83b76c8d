"""Durations as people write them in config and on the command line: `500ms`, `30s`, `5m`, `2h`, `30d`."""

from __future__ import annotations

import re

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}
_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)")


def parse_duration(value: object) -> float:
    """Return `value` in seconds.

    Accepts a number (seconds) or a string of one or more `<number><unit>` parts (`1h30m`).
    Raises ValueError with a message fit for a user otherwise.
    """
    if isinstance(value, bool):
        raise ValueError(f"expected a duration such as 30s or 5m, got {value!r}")
    if isinstance(value, int | float):
        if value < 0:
            raise ValueError("a duration cannot be negative")
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
    return total


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
