"""The vocabulary of detection, shared by detection, storage, alerts, the API and the dashboard."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class Status(StrEnum):
    """A target's (or the fleet's) status. The words are pinned by docs/contract.md."""

    OPERATIONAL = "operational"
    DEGRADED = "degraded"
    DOWN = "down"
    UNKNOWN = "unknown"

    @property
    def severity(self) -> int:
        """Ordering for "worst of": operational < unknown < degraded < down."""
        return {"operational": 0, "unknown": 1, "degraded": 2, "down": 3}[self.value]


class Reason(StrEnum):
    """Why a status is not operational. The words are pinned by docs/contract.md."""

    ERRORS = "errors"
    LATENCY = "latency"
    TTFT = "ttft"
    THROUGHPUT = "throughput"
    RATE_LIMIT = "rate_limit"
    QUALITY = "quality"
    TOOL_CALLS = "tool_calls"
    MODEL_CHANGE = "model_change"
    STALE = "stale"  # no fresh data: only with `unknown`


@dataclass(slots=True)
class TargetStatus:
    """A target's status now, with the evidence behind it.

    `details` holds figures against baseline per reason, e.g.
    `{"latency": {"value_ms": 2400, "baseline_ms": 800, "ratio": 3.0}}`.
    """

    target: str
    status: Status
    since: datetime
    reasons: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """`{"target", "status", "since", "reasons", "details"}`, as `brownout status --json` prints."""
        from monitor.result import format_ts

        out: dict[str, Any] = {
            "target": self.target,
            "status": self.status.value,
            "since": format_ts(self.since),
            "reasons": list(self.reasons),
            "details": dict(self.details),
        }
        if "regions" in self.details:  # probed from several regions (monitor.detect.regions)
            out["regions"] = list(self.details["regions"])
            out["regional"] = bool(self.details.get("regional"))
        return out


@dataclass(slots=True)
class Transition:
    """One change of a target's status (healthchecks' Flip). `target` is `PROVIDER/MODEL`."""

    ts: datetime
    target: str
    old: Status
    new: Status
    reasons: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """`{"ts", "target", "old", "new", "reasons"}`, as `brownout replay --json` prints it."""
        from monitor.result import format_ts

        return {
            "ts": format_ts(self.ts),
            "target": self.target,
            "old": self.old.value,
            "new": self.new.value,
            "reasons": list(self.reasons),
            **({"regions": list(self.details["regions"])} if "regions" in self.details else {}),
        }


@dataclass(slots=True)
class IncidentRecord:
    """A stretch of `degraded`/`down` on one target. `end` is None while it is open.

    `reasons` is the union of the reasons seen during the incident; `peak` holds, per reason, the
    worst figures seen (same shape as `TargetStatus.details`). `id` is None until stored.
    """

    target: str
    start: datetime
    worst: Status
    end: datetime | None = None
    reasons: list[str] = field(default_factory=list)
    peak: dict[str, Any] = field(default_factory=dict)
    id: int | None = None

    @property
    def open(self) -> bool:
        return self.end is None

    def to_dict(self) -> dict[str, Any]:
        from monitor.result import format_ts

        return {
            "id": self.id,
            "target": self.target,
            "start": format_ts(self.start),
            "end": format_ts(self.end) if self.end else None,
            "worst": self.worst.value,
            "reasons": list(self.reasons),
            "peak": dict(self.peak),
        }


@dataclass(slots=True)
class FleetStatus:
    """The whole fleet: `status` is the worst target status (`unknown` only when every target is),
    `summary` says it in words ("operational", "some degraded", "some down", "no data"), and
    `intelligence_brownout` is set when several providers are degraded or down together."""

    status: Status
    summary: str
    counts: dict[str, int] = field(default_factory=dict)
    affected_providers: list[str] = field(default_factory=list)
    intelligence_brownout: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status.value,
            "summary": self.summary,
            "counts": dict(self.counts),
            "affected_providers": list(self.affected_providers),
            "intelligence_brownout": self.intelligence_brownout,
        }
