"""The report as one self-contained HTML file: plotly.js is inlined, so it opens without a
network, and a print stylesheet lays it out on paper (charts unbroken, tables full width)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from html import escape
from typing import TYPE_CHECKING

from monitor.reports import fmt
from monitor.reports.model import Report, ReportRow

if TYPE_CHECKING:
    import plotly.graph_objects as go

_CSS = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1b1f24;
       max-width: 1200px; margin: 2em auto; padding: 0 1em; }
h1 { font-size: 1.6em; margin-bottom: .2em; } h2 { font-size: 1.2em; margin-top: 1.6em; }
.meta { color: #57606a; }
.cards { display: flex; flex-wrap: wrap; gap: .8em; margin: 1em 0; }
.card { border: 1px solid #d0d7de; border-radius: 6px; padding: .6em .9em; min-width: 9em; }
.card b { display: block; font-size: 1.35em; }
table { border-collapse: collapse; width: 100%; font-size: .85em; }
th, td { border-bottom: 1px solid #d0d7de; padding: .3em .45em; text-align: right; }
th:first-child, td:first-child { text-align: left; }
.note { background: #fff8c5; border-left: 3px solid #d4a72c; padding: .4em .8em; }
.chart { break-inside: avoid; page-break-inside: avoid; }
@page { size: A4 landscape; margin: 12mm; }
@media print {
  body { max-width: none; margin: 0; font-size: 10pt; }
  .chart { width: 100% !important; }
  h2 { break-after: avoid; page-break-after: avoid; }
  tr { break-inside: avoid; page-break-inside: avoid; }
  .modebar-container { display: none !important; }
}
"""


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _figures(title: str, rows: Sequence[ReportRow]) -> str:
    if not rows:
        return ""
    return f"<h2>{escape(title)}</h2>" + _table(fmt.HEADERS, [fmt.row(f) for f in rows])


def _chart(figure: go.Figure) -> str:
    figure.update_layout(
        height=320,
        margin={"l": 50, "r": 20, "t": 40, "b": 40},
        template="plotly_white",
        legend={"orientation": "h", "y": -0.2},
    )
    html: str = figure.to_html(
        full_html=False, include_plotlyjs=False, config={"displaylogo": False, "responsive": True}
    )
    return f'<div class="chart">{html}</div>'


def _charts(report: Report) -> str:
    import plotly.graph_objects as go  # here, not at the top: Plotly takes a while to import

    by_target: dict[str, list[tuple[str, float | None, float | None]]] = defaultdict(list)
    for d in report.days:
        by_target[d.target].append((d.day.isoformat(), d.time_availability, d.latency_p95_ms))
    if not by_target:
        return ""
    availability, latency = go.Figure(), go.Figure()
    for target, points in by_target.items():
        days = [p[0] for p in points]
        availability.add_trace(
            go.Scatter(
                x=days,
                y=[None if p[1] is None else p[1] * 100 for p in points],
                name=target,
                mode="lines+markers",
            )
        )
        latency.add_trace(
            go.Scatter(x=days, y=[p[2] for p in points], name=target, mode="lines+markers")
        )
    availability.update_layout(
        title="Time-weighted availability per day (%)", yaxis={"ticksuffix": " %"}
    )
    latency.update_layout(title="Latency p95 per day (ms)")
    split = go.Figure()
    names = [f.name for f in report.targets]
    hours = 3600.0
    for label, attr, colour in (
        ("operational", "operational_s", "#2da44e"),
        ("degraded", "degraded_s", "#d4a72c"),
        ("down", "down_s", "#cf222e"),
        ("maintenance", "maintenance_s", "#8c959f"),
        ("unknown", "unknown_s", "#d0d7de"),
    ):
        split.add_trace(
            go.Bar(
                y=names,
                x=[getattr(f, attr) / hours for f in report.targets],
                name=label,
                orientation="h",
                marker_color=colour,
            )
        )
    split.update_layout(title="Time in each status (hours)", barmode="stack")
    return "<h2>Charts</h2>" + "".join(_chart(f) for f in (availability, latency, split))


def _plotly_js() -> str:
    from plotly.offline import get_plotlyjs

    bundle: str = get_plotlyjs()
    return bundle


def render_html(report: Report) -> str:
    f = report.fleet
    cards = [
        ("time-weighted availability", fmt.availability(f)),
        ("probe success", fmt.pct(f.success_rate, 2)),
        ("incidents", str(f.incidents)),
        ("MTTR", fmt.span(f.mttr_s)),
        ("time down", fmt.span(f.down_s)),
        ("time degraded", fmt.span(f.degraded_s)),
        ("latency p95", fmt.ms(f.latency_p95_ms)),
        ("canary pass", fmt.pct(f.canary_pass_rate, 1)),
        ("probe cost", fmt.usd(f.cost_usd)),
    ]
    subtitle = (
        f"{fmt.when(report.since)} – {fmt.when(report.until)}"
        + (f" · targets: {', '.join(report.selected)}" if report.selected else "")
        + (f" · regions: {', '.join(report.selected_regions)}" if report.selected_regions else "")
        + f" · generated {fmt.when(report.generated_at)} from {report.source}"
    )
    incidents = (
        _table(
            ["target", "start", "end", "duration", "worst", "reasons"],
            [
                [
                    i.target,
                    fmt.when(i.start),
                    fmt.when(i.end),
                    fmt.span(i.duration_s),
                    i.worst,
                    ", ".join(i.reasons) or fmt.DASH,
                ]
                for i in report.incidents
            ],
        )
        if report.incidents
        else "<p>None in this range.</p>"
    )
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>brownout report {report.since:%Y-%m-%d} – {report.until:%Y-%m-%d}</title>",
        f"<style>{_CSS}</style>",
        f"<script>{_plotly_js()}</script>",
        "</head><body>",
        "<h1>brownout report</h1>",
        f'<p class="meta">{escape(subtitle)}</p>',
        "<h2>Fleet summary</h2>",
        '<div class="cards">'
        + "".join(f'<div class="card">{escape(k)}<b>{escape(v)}</b></div>' for k, v in cards)
        + "</div>",
        *(f'<p class="note">{escape(n)}</p>' for n in report.notes),
        _figures("By provider", report.providers),
        _figures("By target", report.targets),
        (
            "<h2>By region</h2>"
            + _table(fmt.REGION_HEADERS, [fmt.region_row(f) for f in report.regions])
            if report.regions
            else ""
        ),
        _charts(report),
        "<h2>Incidents</h2>",
        incidents,
        *(
            [
                "<h2>Service-level objectives</h2>",
                _table(fmt.SLO_HEADERS, [fmt.slo_row(c) for c in report.slos]),
            ]
            if report.slos
            else []
        ),
        *(
            [
                "<h2>Official status pages</h2>",
                _table(fmt.OFFICIAL_HEADERS, [fmt.official_row(g) for g in report.official]),
            ]
            if report.official
            else []
        ),
        "<h2>Definitions</h2><ul>",
        *(f"<li>{escape(text)}</li>" for text in report.definitions.values()),
        "</ul></body></html>",
    ]
    return "\n".join(parts) + "\n"
