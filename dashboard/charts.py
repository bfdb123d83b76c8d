"""Plotly figures for the status page, built from `dashboard.data` (no store access here)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import datetime

import plotly.graph_objects as go

from dashboard.banner import COLOURS
from dashboard.bars import DayCell, Incident
from dashboard.series import Series
from monitor.detect.types import Status
from monitor.result import Outcome
from monitor.store.rollups import Agg

PALETTE = ["#2563eb", "#7c3aed", "#0891b2", "#db2777", "#65a30d", "#ea580c", "#0f766e", "#9333ea"]
_BAR_CODES = {Status.UNKNOWN: 0, Status.OPERATIONAL: 1, Status.DEGRADED: 2, Status.DOWN: 3}
_BAR_SCALE = [
    [0.0, COLOURS[Status.UNKNOWN]],
    [0.25, COLOURS[Status.UNKNOWN]],
    [0.25, COLOURS[Status.OPERATIONAL]],
    [0.5, COLOURS[Status.OPERATIONAL]],
    [0.5, COLOURS[Status.DEGRADED]],
    [0.75, COLOURS[Status.DEGRADED]],
    [0.75, COLOURS[Status.DOWN]],
    [1.0, COLOURS[Status.DOWN]],
]
MAX_SHADES = 60  # incident shadings per chart; beyond that the chart is only noise
FAILURES = [o.value for o in Outcome if o.provider_failure] + [Outcome.RATE_LIMITED.value]


def _layout(fig: go.Figure, title: str, height: int = 300, unit: str = "") -> go.Figure:
    fig.update_layout(
        title={"text": title, "font": {"size": 15}},
        height=height,
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
        legend={"orientation": "h", "y": -0.15},
        hovermode="x unified",
        yaxis={"title": unit, "rangemode": "tozero"},
        template="plotly_white",
    )
    return fig


def status_bars(cells: Sequence[DayCell], public: bool = False) -> go.Figure:
    """The 90-day bar per target, one cell a day coloured by the day's status, with its figures
    on hover."""
    targets = list(dict.fromkeys(c.target for c in cells))
    days = list(dict.fromkeys(c.day for c in cells))
    index = {t: i for i, t in enumerate(targets)}
    z = [[0] * len(days) for _ in targets]
    text = [[""] * len(days) for _ in targets]
    position = {d: i for i, d in enumerate(days)}
    for cell in cells:
        row, col = index[cell.target], position[cell.day]
        z[row][col] = _BAR_CODES[cell.status]
        text[row][col] = _day_text(cell, public)
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=[d.isoformat() for d in days],
            y=targets,
            text=text,
            hovertemplate="%{text}<extra></extra>",
            colorscale=_BAR_SCALE,
            zmin=0,
            zmax=3,
            showscale=False,
            xgap=2,
            ygap=6,
        )
    )
    fig.update_layout(
        height=max(120, 34 * len(targets) + 50),
        margin={"l": 10, "r": 10, "t": 10, "b": 30},
        yaxis={"autorange": "reversed"},
        template="plotly_white",
    )
    return fig


def _day_text(cell: DayCell, public: bool) -> str:
    head = f"<b>{cell.target}</b> · {cell.day:%a %d %b %Y} · {cell.status.value}"
    agg = cell.agg
    if agg is None or not agg.n:
        return head + "<br>no probes"
    parts = [f"{agg.n:,} probes", f"uptime {_pct(agg.uptime)}"]
    if agg.quality_rate is not None:
        parts.append(f"canaries {_pct(agg.quality_rate)}")
    mean = agg.mean("lat")
    if mean is not None:
        parts.append(f"mean latency {mean:,.0f} ms")
    if not public and agg["cost_sum"]:
        parts.append(f"cost ${agg['cost_sum']:.4f}")
    return head + "<br>" + " · ".join(parts)


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.2f} %"


def _x(points: Sequence[Agg]) -> list[datetime]:
    return [p.start for p in points]


def _colour(i: int) -> str:
    return PALETTE[i % len(PALETTE)]


def _fade(hex_colour: str, alpha: float = 0.15) -> str:
    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def timing_chart(
    series: Series, metric: str, title: str, incidents: Sequence[Incident]
) -> go.Figure:
    """p50 line and a p50–p95 band per line, for `ttft` or `lat`."""
    fig = go.Figure()
    for i, (name, points) in enumerate(series.lines.items()):
        x = _x(points)
        p50 = [p.percentile(metric, 0.5) for p in points]
        p95 = [p.percentile(metric, 0.95) for p in points]
        colour = _colour(i)
        fig.add_trace(
            go.Scatter(x=x, y=p95, mode="lines", line={"width": 0}, showlegend=False,
                       name=f"{name} p95", legendgroup=name, hovertemplate="%{y:,.0f} ms")
        )  # fmt: skip
        fig.add_trace(
            go.Scatter(x=x, y=p50, mode="lines", line={"color": colour, "width": 2}, name=name,
                       fill="tonexty", fillcolor=_fade(colour), legendgroup=name,
                       hovertemplate="%{y:,.0f} ms (p50)")
        )  # fmt: skip
    shade(fig, incidents, series)
    return _layout(fig, title, unit="ms")


def line_chart(
    series: Series,
    value: Callable[[Agg], float | None],
    title: str,
    unit: str,
    incidents: Sequence[Incident],
    percent: bool = False,
) -> go.Figure:
    """One line per series of `value(point)`."""
    fig = go.Figure()
    for i, (name, points) in enumerate(series.lines.items()):
        y = [value(p) for p in points]
        if percent:
            y = [None if v is None else v * 100 for v in y]
        fig.add_trace(
            go.Scatter(x=_x(points), y=y, mode="lines", name=name,
                       line={"color": _colour(i), "width": 2})
        )  # fmt: skip
    shade(fig, incidents, series)
    fig = _layout(fig, title, unit=unit)
    if percent:
        fig.update_yaxes(range=[0, 100.5])
    return fig


def error_chart(series: Series, incidents: Sequence[Incident]) -> go.Figure:
    """Share of probes per failing outcome, all shown lines together, stacked."""
    totals: dict[datetime, int] = defaultdict(int)
    counts: dict[str, dict[datetime, int]] = defaultdict(lambda: defaultdict(int))
    for points in series.lines.values():
        for p in points:
            totals[p.start] += p.n
            for outcome in FAILURES:
                counts[outcome][p.start] += p.count(outcome)
    x = sorted(totals)
    fig = go.Figure()
    for outcome in FAILURES:
        if not any(counts[outcome].values()):
            continue
        y = [100 * counts[outcome][t] / totals[t] if totals[t] else 0 for t in x]
        fig.add_trace(go.Bar(x=x, y=y, name=outcome.replace("_", " ")))
    fig.update_layout(barmode="stack", bargap=0.1)
    shade(fig, incidents, series)
    return _layout(fig, "Errors by outcome (% of probes)", unit="%")


def shade(fig: go.Figure, incidents: Sequence[Incident], series: Series) -> None:
    """Shade each incident of the shown lines over the chart's span, in its worst colour."""
    points = [p for line in series.lines.values() for p in line]
    if not points:
        return
    lo = min(p.start for p in points)
    hi = max(p.start for p in points)
    shown = set(series.lines)
    chosen = [
        i
        for i in incidents
        if (i.target in shown or i.target.partition("/")[0] in shown)
        and (i.end is None or i.end >= lo)
        and i.start <= hi
    ][:MAX_SHADES]
    for incident in chosen:
        fig.add_vrect(
            x0=max(incident.start, lo),
            x1=min(incident.end, hi) if incident.end else hi,
            fillcolor=COLOURS[incident.worst],
            opacity=0.12,
            line_width=0,
            layer="below",
        )
