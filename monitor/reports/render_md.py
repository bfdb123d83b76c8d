"""The report as Markdown: readable in a terminal, a pull request or a ticket."""

from __future__ import annotations

from collections.abc import Sequence

from monitor.reports import fmt
from monitor.reports.model import Report, ReportRow


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"

    return [line(headers), "|" + "|".join("---" for _ in headers) + "|", *(line(r) for r in rows)]


def _figures(title: str, rows: Sequence[ReportRow]) -> list[str]:
    if not rows:
        return []
    return [f"## {title}", "", *_table(fmt.HEADERS, [fmt.row(f) for f in rows]), ""]


def render_markdown(report: Report) -> str:
    f = report.fleet
    out = [
        "# brownout report",
        "",
        f"{fmt.when(report.since)} – {fmt.when(report.until)}"
        + (f" · targets: {', '.join(report.selected)}" if report.selected else "")
        + (f" · regions: {', '.join(report.selected_regions)}" if report.selected_regions else "")
        + f" · generated {fmt.when(report.generated_at)} from {report.source}",
        "",
        "## Fleet summary",
        "",
        f"- **Time-weighted availability**: {fmt.availability(f)}",
        f"- **Probe success rate**: {fmt.pct(f.success_rate, 2)} of {f.probes:,} probes",
        f"- **Targets**: {f.targets} · **incidents**: {f.incidents}"
        f" · **MTTR**: {fmt.span(f.mttr_s)} · **longest**: {fmt.span(f.longest_incident_s)}",
        f"- **Time degraded**: {fmt.span(f.degraded_s)} · **down**: {fmt.span(f.down_s)}"
        f" · **maintenance excluded**: {fmt.span(f.maintenance_s)}",
        f"- **Latency p50/p95/p99**: {fmt.ms(f.latency_p50_ms)} / {fmt.ms(f.latency_p95_ms)}"
        f" / {fmt.ms(f.latency_p99_ms)} · **TTFT p50**: {fmt.ms(f.ttft_p50_ms)}",
        f"- **Canary pass rate**: {fmt.canary(f)} · **rate-limited**: {fmt.pct(f.rate_limited_share, 2)}"
        f" · **probe cost**: {fmt.usd(f.cost_usd)}",
        "",
    ]
    if report.notes:
        out += [*(f"> {note}" for note in report.notes), ""]
    out += _figures("By provider", report.providers)
    out += _figures("By target", report.targets)
    if report.regions:
        rows = [fmt.region_row(f) for f in report.regions]
        out += ["## By region", "", *_table(fmt.REGION_HEADERS, rows), ""]
    out += ["## Incidents", ""]
    if report.incidents:
        out += _table(
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
    else:
        out.append("None in this range.")
    if report.slos:
        out += ["", "## Service-level objectives", ""]
        out += _table(fmt.SLO_HEADERS, [fmt.slo_row(c) for c in report.slos])
    if report.official:
        out += ["", "## Official status pages", ""]
        out += _table(fmt.OFFICIAL_HEADERS, [fmt.official_row(g) for g in report.official])
    out += ["", "## Definitions", ""]
    out += [f"- {text}" for text in report.definitions.values()]
    return "\n".join(out) + "\n"
