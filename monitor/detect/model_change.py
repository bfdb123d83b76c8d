"""`model_change`: the answering model (`response_model`) or its `system_fingerprint` is not one
the target has established, or the distribution of a drift canary's answers has changed.

Everything seen in the first answers is established (a provider may rotate a few fingerprints).
Afterwards a value never seen before makes the signal active at once (one probe is proof enough:
the value is there or it is not). It ends when the established value answers `revert_after` times
in a row, or when the new value has been answering for `adopt_after`: then it is adopted, and
`adopted` tells the target detector to relearn the other baselines for the new model. Values not
seen for `forget_after` are no longer established.

Drift (`monitor.detect.drift`): per canary, the first `reference` answers that carry top
logprobs (or, for the canaries named in `answers`, the answer texts) are the reference; every
following `window` answers are tested against it, windows not overlapping. A p-value at or below
the level `alpha` (derived from the false-alarm allowance and the number of tests a month,
`DetectionConfig.drift_alpha`) turns the signal on with the p-value and the evidence. It turns
off when `QUIET_WINDOWS` windows in a row are not significant even at `CLEAR_P` (the answers look
like the reference again), or after `adopt_after`: the recent answers are then the new
reference and the other baselines are relearned, as for a new model name. A result that says
"the distribution changed" never says why.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from monitor.config.detection import ModelChangeConfig
from monitor.detect.drift import DriftTest, answer_test, logprob_test
from monitor.detect.signal import Signal, rounded
from monitor.detect.types import Reason, Status
from monitor.result import ProbeResult

WARMUP = 30  # answers whose values are all established
CLEAR_P = 0.05  # a window this unremarkable (p above it) counts towards the all clear
QUIET_WINDOWS = 2  # windows in a row above CLEAR_P end a drift alarm
FIELDS = ("response_model",)
FIELDS_WITH_FINGERPRINT = ("response_model", "system_fingerprint")


@dataclass(slots=True)
class _Drift:
    """One canary's drift test: its reference, the window being filled, and the alarm."""

    kind: str  # "logprobs" or "answers"
    reference: list[Any] = field(default_factory=list)
    window: list[Any] = field(default_factory=list)
    # The newest `reference` answers, for adoption (a list trimmed from the front: a deque of
    # 30 took 1.3 KB).
    recent: list[Any] = field(default_factory=list)
    tests: int = 0
    since: datetime | None = None  # the alarm's first significant window ended then
    alarm: DriftTest | None = None  # the latest significant test
    alpha: float = 0.0
    quiet: int = 0


class ModelSignal(Signal):
    __slots__ = (
        "_last",
        "adopted",
        "candidates",
        "cfg",
        "drift_alpha",
        "drifts",
        "established",
        "fields",
        "reverts",
        "seen",
    )

    reason = Reason.MODEL_CHANGE

    def __init__(
        self, cfg: ModelChangeConfig, drift_alpha: Callable[[int], float] | None = None
    ) -> None:
        """`drift_alpha(n)` is the level of one drift test when `n` canaries are tested
        (`DetectionConfig.drift_alpha`); without it, `cfg.alpha` or 0.001."""
        self.cfg = cfg
        self.drift_alpha = drift_alpha or (lambda n: cfg.alpha or 0.001)
        self.drifts: dict[str, _Drift] = {}
        fields = FIELDS_WITH_FINGERPRINT if cfg.fingerprint else FIELDS
        self.fields = fields
        self.established: dict[str, dict[str, datetime]] = {f: {} for f in fields}
        self.candidates: dict[tuple[str, str], datetime] = {}  # (field, value) -> first seen
        self.seen = {f: 0 for f in fields}
        self.reverts = 0
        self.adopted = False  # set by observe when a new value was adopted; the caller clears it
        self._last: dict[str, str] = {}

    def observe(self, result: ProbeResult) -> None:
        if not self.cfg.enabled or not result.outcome.answered:
            return
        ts = result.ts
        novel = False
        for f in self.fields:
            value = getattr(result, f)
            if not value:
                continue
            known = self.established[f]
            self.seen[f] += 1
            if value in known or self.seen[f] <= WARMUP:
                known[value] = ts
                if (f, value) not in self.candidates:
                    self._last[f] = value
                continue
            novel = True
            first = self.candidates.setdefault((f, value), ts)
            if (ts - first).total_seconds() >= self.cfg.adopt_after:
                known[value] = ts
                self._last[f] = value
                del self.candidates[(f, value)]
                self.adopted = True
        if self.candidates:
            self.reverts = 0 if novel else self.reverts + 1
            if self.reverts >= self.cfg.revert_after:
                self.candidates.clear()
        if self.seen[self.fields[0]] % 100 == 0:
            self._forget(ts)
        if self.adopted:
            self.drifts.clear()  # a new model name: its answers are a new reference
        self._observe_drift(result)

    def _observe_drift(self, result: ProbeResult) -> None:
        sample: Any
        if self.cfg.logprobs and result.top_logprobs:
            kind, sample = "logprobs", result.top_logprobs
        elif result.canary in self.cfg.answers and result.answer is not None:
            kind, sample = "answers", result.answer
        else:
            return
        drift = self.drifts.get(result.canary)
        if drift is None or drift.kind != kind:
            drift = self.drifts[result.canary] = _Drift(kind)
        drift.recent.append(sample)
        if len(drift.recent) > self.cfg.reference:
            del drift.recent[0]
        if len(drift.reference) < self.cfg.reference:
            drift.reference.append(sample)
            return
        drift.window.append(sample)
        if len(drift.window) >= self.cfg.window:
            self._test(result.canary, drift, result.ts)
        if (
            drift.since is not None
            and (result.ts - drift.since).total_seconds() >= self.cfg.adopt_after
        ):
            drift.reference = list(drift.recent)
            drift.window = []
            drift.since = drift.alarm = None
            self.adopted = True

    def _test(self, canary: str, drift: _Drift, ts: datetime) -> None:
        tested = sum(1 for d in self.drifts.values() if len(d.reference) >= self.cfg.reference)
        alpha = self.drift_alpha(tested)
        seed = zlib.crc32(f"{canary}:{drift.tests}".encode())
        run = logprob_test if drift.kind == "logprobs" else answer_test
        test = run(drift.reference, drift.window, alpha, seed)
        drift.tests += 1
        drift.window = []
        if test.p_value <= alpha:
            if drift.since is None:
                drift.since = ts
            drift.alarm, drift.alpha, drift.quiet = test, alpha, 0
        elif drift.since is not None:
            drift.quiet = drift.quiet + 1 if test.p_value > CLEAR_P else 0
            if drift.quiet >= QUIET_WINDOWS:
                drift.since = drift.alarm = None

    def _forget(self, ts: datetime) -> None:
        for known in self.established.values():
            if len(known) > 1:
                stale = [
                    v
                    for v, seen in known.items()
                    if (ts - seen).total_seconds() > self.cfg.forget_after
                ]
                for value in stale[: len(known) - 1]:
                    del known[value]

    @property
    def level(self) -> Status | None:
        drifting = any(d.alarm is not None for d in self.drifts.values())
        return Status.DEGRADED if self.candidates or drifting else None

    def details(self) -> dict[str, Any]:
        if self.candidates:
            (name, value), _first = next(iter(self.candidates.items()))
            return {"field": name, "model": value, "baseline": self._last.get(name)}
        for canary, drift in sorted(self.drifts.items()):
            if drift.alarm is not None:
                return {
                    "field": drift.kind,
                    "canary": canary,
                    "change": "the distribution changed",
                    "p_value": float(f"{drift.alarm.p_value:.3g}"),
                    "alpha": rounded(drift.alpha),
                    "window": self.cfg.window,
                    "reference": len(drift.reference),
                    "evidence": drift.alarm.evidence,
                }
        return {}
