"""What every signal offers the target detector: fed one result at a time, it is active or not.

A signal owns one reason (`errors`, `latency`, …). `observe(result)` updates it; `level` is the
status it asks for (`degraded`, `down`, or None when quiet); `details()` gives the figures behind
it against baseline, for alerts and the status page. Signals never read a clock: they use the
results' own timestamps, so replays give the same answers as live runs.
"""

from __future__ import annotations

from typing import Any

from monitor.detect.types import Reason, Status
from monitor.result import ProbeResult


class Signal:
    __slots__ = ()  # its subclasses may keep their state in slots (a few per target)

    reason: Reason

    def observe(self, result: ProbeResult) -> None:
        raise NotImplementedError

    @property
    def level(self) -> Status | None:
        raise NotImplementedError

    def details(self) -> dict[str, Any]:
        return {}

    def relearn(self) -> None:
        """Forget the baseline (the target now answers with another model)."""


def rounded(value: float | None, digits: int = 3) -> float | None:
    """Figures in details are for people: a few significant digits."""
    if value is None:
        return None
    return float(f"{value:.{digits}g}")
