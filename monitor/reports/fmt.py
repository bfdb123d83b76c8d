"""Formatting report figures for people (Markdown and HTML); CSV and JSON keep raw numbers."""

from __future__ import annotations

import math
from datetime import datetime

from monitor.durations import format_duration
from monitor.reports.model import OfficialGrade, ReportRow
from monitor.slo import Compliance

DASH = "–"


def pct(value: float | None, places: int = 3) -> str:
    """`0.999005` → `99.900 %`; truncated, not rounded, so 99.9999 % never shows as 100 %."""
    if value is None:
        return DASH
    scale = 10**places
    # round() first so 0.999 (99.89999… in binary) is not truncated to 99.899.
    shown = math.floor(round(value * 100 * scale, 6)) / scale
    return f"{shown:.{places}f} %"


def ms(value: float | None) -> str:
    if value is None:
        return DASH
    return f"{value / 1000:.2f} s" if value >= 10_000 else f"{value:.0f} ms"


def num(value: float | None, places: int = 1) -> str:
    return DASH if value is None else f"{value:.{places}f}"


def span(seconds: float | None) -> str:
    if seconds is None:
        return DASH
    return "0s" if seconds <= 0 else format_duration(seconds)


def usd(value: float) -> str:
    return f"${value:.4f}" if value < 1 else f"${value:,.2f}"


def when(ts: datetime | None) -> str:
    return "ongoing" if ts is None else f"{ts:%Y-%m-%d %H:%M} UTC"


def tokens_per_s(f: ReportRow) -> str:
    """The median when known (raw results and rollups both keep its sketch); else the mean,
    marked as such (rollups from before the sketches kept only the mean)."""
    if f.tokens_per_s_p50 is not None:
        return num(f.tokens_per_s_p50)
    return DASH if f.tokens_per_s_mean is None else f"{f.tokens_per_s_mean:.1f} (mean)"


def canary(f: ReportRow) -> str:
    if f.canary_pass_rate is None:
        return DASH
    return f"{pct(f.canary_pass_rate, 1)} ({pct(f.canary_ci_low, 1)}–{pct(f.canary_ci_high, 1)})"


def coverage(f: ReportRow) -> str:
    """`over 3.0 d of 30 d` when the known time is short of the range (per target on average
    for a provider or the fleet), else empty."""
    if f.range_s <= 0 or f.coverage_s >= f.range_s * 0.995:
        return ""
    members = max(1, f.targets)
    return f"over {days(f.coverage_s / members)} of {days(f.range_s / members)}"


def days(seconds: float) -> str:
    """`3.0 d`, `30 d`, `5.5 h`."""
    if seconds >= 86400:
        value = seconds / 86400
        return f"{value:.0f} d" if value >= 10 or value == int(value) else f"{value:.1f} d"
    return f"{seconds / 3600:.1f} h"


def availability(f: ReportRow) -> str:
    """The time-weighted availability with its coverage: `99.485 % over 1.1 d of 30 d`."""
    text = pct(f.time_availability)
    cover = coverage(f)
    return f"{text} {cover}" if cover and f.time_availability is not None else text


def row(f: ReportRow) -> list[str]:
    """The figures of one row, in the order of `HEADERS`."""
    return [
        f.name,
        availability(f),
        pct(f.success_rate, 2),
        span(f.degraded_s),
        span(f.down_s),
        str(f.incidents),
        span(f.mttr_s),
        span(f.longest_incident_s),
        f"{ms(f.ttft_p50_ms)} / {ms(f.ttft_p95_ms)} / {ms(f.ttft_p99_ms)}",
        f"{ms(f.latency_p50_ms)} / {ms(f.latency_p95_ms)} / {ms(f.latency_p99_ms)}",
        tokens_per_s(f),
        canary(f),
        pct(f.rate_limited_share, 2),
        f"{f.probes:,}",
        usd(f.cost_usd),
    ]


HEADERS = [
    "",
    "availability (time-weighted)",
    "probe success",
    "degraded",
    "down",
    "incidents",
    "MTTR",
    "longest",
    "TTFT p50/p95/p99",
    "latency p50/p95/p99",
    "tokens/s p50",
    "canary pass (95 % CI)",
    "rate-limited",
    "probes",
    "cost",
]


OFFICIAL_HEADERS = ["provider", "pages", "events", "posted", "never posted", "median lead", "grade"]


def lead(seconds: float | None) -> str:
    """A lead time: `+12m` when brownout saw it first, `-3m` when the provider posted first."""
    if seconds is None:
        return DASH
    return ("-" if seconds < 0 else "+") + span(abs(seconds))


def official_row(g: OfficialGrade) -> list[str]:
    return [
        g.provider,
        ", ".join(g.pages),
        str(g.events),
        str(g.posted),
        str(g.never_posted),
        lead(g.median_lead_s),
        g.grade or DASH,
    ]


REGION_HEADERS = [
    "target",
    "region",
    "probes",
    "probe availability",
    "probe success",
    "TTFT p50/p95/p99",
    "latency p50/p95/p99",
]


def region_row(f: ReportRow) -> list[str]:
    """The figures of one `region` row, in the order of `REGION_HEADERS`."""
    return [
        f.name,
        f.region or DASH,
        f"{f.probes:,}",
        pct(f.probe_availability),
        pct(f.success_rate, 2),
        f"{ms(f.ttft_p50_ms)} / {ms(f.ttft_p95_ms)} / {ms(f.ttft_p99_ms)}",
        f"{ms(f.latency_p50_ms)} / {ms(f.latency_p95_ms)} / {ms(f.latency_p99_ms)}",
    ]


SLO_HEADERS = ["target", "objective", "attained", "met", "error budget left", "bad / probes"]


def slo_row(c: Compliance) -> list[str]:
    met = DASH if c.met is None else ("yes" if c.met else "no")
    return [
        c.target,
        c.objective,
        pct(c.attainment, 3),
        met,
        pct(c.budget_left, 1),
        f"{c.bad:,} / {c.total:,}",
    ]
