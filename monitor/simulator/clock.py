"""The simulator's clock: what scenario phases follow."""

from __future__ import annotations

import time


class SimClock:
    """Seconds since the simulator started, on the monotonic clock; tests may jump it ahead."""

    def __init__(self) -> None:
        self._start = time.monotonic()
        self._offset = 0.0

    def __call__(self) -> float:
        return time.monotonic() - self._start + self._offset

    def advance(self, seconds: float) -> None:
        self._offset += seconds

    def reset(self) -> None:
        self._start = time.monotonic()
        self._offset = 0.0
