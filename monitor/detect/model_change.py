"""`model_change`: the answering model (`response_model`) or its `system_fingerprint` is not one
the target has established.

Everything seen in the first answers is established (a provider may rotate a few fingerprints).
Afterwards a value never seen before makes the signal active at once (one probe is proof enough:
the value is there or it is not). It ends when the established value answers `revert_after` times
in a row, or when the new value has been answering for `adopt_after`: then it is adopted, and
`adopted` tells the target detector to relearn the other baselines for the new model. Values not
seen for `forget_after` are no longer established.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from monitor.config.detection import ModelChangeConfig
from monitor.detect.signal import Signal
from monitor.detect.types import Reason, Status
from monitor.result import ProbeResult

WARMUP = 30  # answers whose values are all established


class ModelSignal(Signal):
    reason = Reason.MODEL_CHANGE

    def __init__(self, cfg: ModelChangeConfig) -> None:
        self.cfg = cfg
        fields = ["response_model", "system_fingerprint"] if cfg.fingerprint else ["response_model"]
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
        return Status.DEGRADED if self.candidates else None

    def details(self) -> dict[str, Any]:
        if not self.candidates:
            return {}
        (field, value), _first = next(iter(self.candidates.items()))
        return {"field": field, "model": value, "baseline": self._last.get(field)}
