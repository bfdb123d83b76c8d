"""The report as data: what `build_report` returns and every renderer reads.

Ratios are fractions (0.999, not 99.9) and durations are seconds; renderers format them.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

from monitor.result import format_ts
from monitor.slo import Compliance

Scope = Literal["fleet", "provider", "target", "region"]

DEFINITIONS: dict[str, str] = {
    "time_availability": (
        "Time-weighted availability: the share of time with a known status that the target was "
        "not down (operational or degraded), from the detector's status history. Time in a "
        "maintenance window and time with no fresh data (unknown) are left out of both sides, so "
        "it is always given with its coverage: the time with a known status out of the range "
        '("over 3.0 d of 30 d"). It is not the probe-share availability the API and the page '
        "give (1 - provider failures over counted probes)."
    ),
    "success_rate": (
        "Probe success rate: the share of probes whose outcome was ok (right answer, in time), "
        "of all probes except those the monitor itself cancelled."
    ),
    "canary_pass_rate": (
        "Canary pass rate: the share of checked answers that passed their canary's check, with "
        "a 95 % Wilson score interval."
    ),
    "latency": (
        "TTFT, latency and tokens/s percentiles are over answered probes (ok or wrong_answer)."
    ),
    "mttr": "MTTR: mean duration of the incidents that ended inside the range.",
    "regions": (
        "By region: each target's probes from each region apart. Its availability is the "
        "probe-share availability (1 - provider failures over counted probes), since the status "
        "history is kept for the target over every region (the quorum), not per region."
    ),
    "rate_limited_share": "Rate-limit share: the share of probes answered with HTTP 429.",
    "cost_usd": "Probe cost: the provider's list price of the tokens the probes used.",
    "official": (
        "Official status pages: brownout's incidents of at least 10 minutes on a provider "
        "(overlapping ones on its targets as one event), each set beside the first incident the "
        "provider posted within the match window; lead is the time from brownout seeing it to "
        "the post (positive: brownout first); the grade is A (>= 90 % posted, median lead <= "
        "5 min), B (>= 75 %, <= 15 min), C (>= 50 %, <= 30 min), D (>= 25 %) or F."
    ),
}


@dataclass(slots=True)
class ReportRow:
    """One row of the report: a target, a provider, or the whole fleet; or one target's probes
    from one `region` (scope `region`: probe figures only, `probe_availability` rather than the
    time-weighted one)."""

    scope: Scope
    name: str
    region: str | None = None  # the region of a `region` row
    targets: int = 1
    probes: int = 0
    time_availability: float | None = None
    coverage_s: float = 0.0  # time with a known status (the availability's denominator)
    range_s: float = 0.0  # the report's range
    success_rate: float | None = None
    operational_s: float = 0.0
    degraded_s: float = 0.0
    down_s: float = 0.0
    unknown_s: float = 0.0
    maintenance_s: float = 0.0
    incidents: int = 0
    mttr_s: float | None = None
    longest_incident_s: float | None = None
    ttft_p50_ms: float | None = None
    ttft_p95_ms: float | None = None
    ttft_p99_ms: float | None = None
    latency_p50_ms: float | None = None
    latency_p95_ms: float | None = None
    latency_p99_ms: float | None = None
    tokens_per_s_p50: float | None = None
    tokens_per_s_mean: float | None = None
    canary_checked: int = 0
    canary_pass_rate: float | None = None
    canary_ci_low: float | None = None
    canary_ci_high: float | None = None
    rate_limited_share: float | None = None
    cost_usd: float = 0.0
    probe_availability: float | None = None  # 1 - provider failures over counted probes


@dataclass(frozen=True, slots=True)
class ReportIncident:
    target: str
    start: datetime
    end: datetime | None  # None while still open at the end of the range
    duration_s: float
    worst: str
    reasons: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class DayRow:
    """One target on one day, for the charts."""

    target: str
    day: date
    time_availability: float | None
    success_rate: float | None
    latency_p95_ms: float | None
    ttft_p50_ms: float | None


@dataclass(frozen=True, slots=True)
class OfficialGrade:
    """How a provider's official status page told of brownout's incidents in the range
    (`monitor.statuspages.grade`)."""

    provider: str
    pages: tuple[str, ...]
    events: int
    posted: int
    never_posted: int
    posted_first: int
    median_lead_s: float | None
    grade: str | None


@dataclass(slots=True)
class Report:
    since: datetime
    until: datetime
    generated_at: datetime
    source: str
    fleet: ReportRow
    providers: list[ReportRow] = field(default_factory=list)
    targets: list[ReportRow] = field(default_factory=list)
    # per target and region, when more than one region probed (or `regions` chose some)
    regions: list[ReportRow] = field(default_factory=list)
    incidents: list[ReportIncident] = field(default_factory=list)
    days: list[DayRow] = field(default_factory=list)
    maintenance: list[str] = field(default_factory=list)
    official: list[OfficialGrade] = field(default_factory=list)
    # each target's SLO objectives over the range (`slo:` in the config; monitor.slo)
    slos: list[Compliance] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    selected: list[str] = field(default_factory=list)
    selected_regions: list[str] = field(default_factory=list)  # `--region`; empty: every region
    definitions: dict[str, str] = field(default_factory=lambda: dict(DEFINITIONS))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: timestamps as docs/contract.md writes them, days as ISO dates."""
        out: dict[str, Any] = _plain(dataclasses.asdict(self))
        return out


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return format_ts(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value
