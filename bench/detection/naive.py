"""The naive rule of plain uptime monitors (Uptime Kuma's retries, Gatus' failure-threshold): a
target is down after 3 failed probes in a row and up again after 2 good ones in a row. A probe
"fails" when no answer came back (any outcome but ok and wrong_answer; a 429 fails too, as a
non-2xx status does for them); cancelled probes are skipped."""

from __future__ import annotations

from collections.abc import Iterable

from monitor.detect.types import Status, Transition
from monitor.result import Outcome, ProbeResult

FAILURES_TO_DOWN = 3
SUCCESSES_TO_UP = 2


def naive(results: Iterable[ProbeResult]) -> list[Transition]:
    state: dict[str, tuple[Status, int, int]] = {}  # target -> (status, failures, successes)
    out: list[Transition] = []
    for r in results:
        if r.outcome is Outcome.CANCELLED:
            continue
        status, failures, successes = state.get(r.target, (Status.OPERATIONAL, 0, 0))
        if r.outcome.answered:
            failures, successes = 0, successes + 1
            if status is Status.DOWN and successes >= SUCCESSES_TO_UP:
                out.append(Transition(r.ts, r.target, status, Status.OPERATIONAL))
                status = Status.OPERATIONAL
        else:
            failures, successes = failures + 1, 0
            if status is Status.OPERATIONAL and failures >= FAILURES_TO_DOWN:
                out.append(Transition(r.ts, r.target, status, Status.DOWN, ["errors"]))
                status = Status.DOWN
        state[r.target] = (status, failures, successes)
    return out
