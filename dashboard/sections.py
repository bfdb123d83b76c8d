"""The page's sections, each drawn from a `dashboard.data.Page`. Public mode shows statuses,
uptime, charts and incidents, and never answers, error texts, costs or config."""

from __future__ import annotations

import html
import io
import math
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Literal

import pandas as pd  # type: ignore[import-untyped]
import streamlit as st

from dashboard import charts
from dashboard.banner import COLOURS, display_name
from dashboard.data import Page, where_words
from monitor.config import Config
from monitor.detect.types import Status
from monitor.durations import format_duration
from monitor.read.slo import ObjectiveNow
from monitor.reports import fmt as report_fmt
from monitor.secrets import Scrubber
from monitor.store import Store, rollups


def _word(status: Status) -> str:
    return status.value


EXPORT_MAX = 500_000  # raw results a download from the page may hold (it is built in memory)


def _table(rows: list[dict[str, Any]], *, height: int | Literal["auto"] = "auto") -> None:
    """A table with its status words in their colours."""
    numeric = {k for row in rows for k, v in row.items() if isinstance(v, int | float)}
    # Nothing shows as a dash: in text columns directly, in numeric ones through the formatter.
    frame = pd.DataFrame(
        [
            {k: v if v is not None else math.nan if k in numeric else "–" for k, v in row.items()}
            for row in rows
        ]
    )

    def colour(value: Any) -> str:
        if isinstance(value, str) and value in Status._value2member_map_:
            return f"color: {COLOURS[Status(value)]}; font-weight: 600"
        return ""

    styled = frame.style.map(colour).format(precision=1, na_rep="–")
    st.dataframe(styled, hide_index=True, width="stretch", height=height)


def banner(page: Page) -> None:
    b = page.banner
    dot = "display:inline-block;width:10px;height:10px;border-radius:50%;margin-right:5px"
    chips = " ".join(
        f'<span style="margin-right:18px;white-space:nowrap">'
        f'<span style="{dot};background:{COLOURS[s]}"></span>'
        f"{html.escape(display_name(p))} <small style='color:#6b7280'>"
        f"{html.escape(b.words.get(p, s.value).replace('_', ' '))}</small></span>"
        for p, s in sorted(b.providers.items())
    )
    st.markdown(
        f'<div data-testid="brownout-banner" style="background:{b.colour};color:white;'
        'padding:18px 22px;border-radius:10px;font-size:1.45rem;font-weight:600">'
        f"{html.escape(b.text)}</div>"
        f'<div style="margin:8px 2px 4px 2px;font-size:0.95rem">{chips}</div>',
        unsafe_allow_html=True,
    )
    # The counts and the targets in trouble as text (the tables below are canvases).
    st.markdown(f'<p data-testid="brownout-summary">{html.escape(page.summary)}</p>',
                unsafe_allow_html=True)  # fmt: skip
    st.caption(
        f"Updated {page.now:%H:%M:%S} UTC · {len(page.targets)} target(s) · "
        f"data ready in {sum(page.timings.values()) * 1000:,.0f} ms"
    )


def targets(page: Page) -> None:
    st.subheader("Targets")
    rows = [
        {
            "status": _word(r.status.status),
            "target": r.target,
            "reasons": ", ".join(r.status.reasons) + where_words(r.status.details),
            "since": _when(r.status.since, page.now),
            **{f"uptime {w}": _uptime(v, r.coverage.get(w), w) for w, v in r.uptime.items()},
        }
        for r in page.targets
    ]
    if not rows:
        st.info("No target matches the filters.")
        return
    _table(rows)
    regions(page)
    st.markdown("**Last 90 days** (one bar a day; hover for the day's figures)")
    bars = charts.status_bars(page.days, page.public)
    st.plotly_chart(bars, width="stretch", config={"displayModeBar": False})


def regions(page: Page) -> None:
    """Per target, each region's status (its own detection, which the quorum combines) and its
    TTFT p50/p95 and error rate over the range: text, not a canvas, so it can be read aloud."""
    if not page.by_region:
        return
    shown = [r.target for r in page.targets if r.target in page.by_region]
    if not shown:
        return
    cell = "padding:2px 10px;text-align:left"
    head = "".join(
        f'<th style="{cell}">{h}</th>'
        for h in ("target", "region", "status", "TTFT p50", "TTFT p95", "error rate", "probes")
    )
    body = []
    for target in shown:
        for row in page.by_region[target]:
            status = row.status or "–"
            colour = COLOURS[Status(status)] if status in Status._value2member_map_ else "inherit"
            values = [
                html.escape(target),
                html.escape(row.region),
                f'<span style="color:{colour};font-weight:600">{html.escape(status)}</span>',
                _ms(row.ttft_p50_ms),
                _ms(row.ttft_p95_ms),
                _pct(row.error_rate),
                f"{row.probes:,}",
            ]
            body.append("<tr>" + "".join(f'<td style="{cell}">{v}</td>' for v in values) + "</tr>")
    where = ", ".join(page.chosen_regions) if page.chosen_regions else "every region"
    st.markdown(f"**By region** (status each region sees; figures over the range, {where})")
    st.markdown(
        f'<table data-testid="brownout-regions" style="font-size:0.9rem;margin-bottom:1em">'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>",
        unsafe_allow_html=True,
    )


def slos(page: Page) -> None:
    """Each target's SLO objectives (`monitor.read.slo.slo_now`, the API's and the report's
    figures): attainment and error budget left over the SLO period, and, outside public mode,
    the burn rate now on each rule's windows and whether it pages (or opens a ticket). Text, not
    a canvas."""
    shown = [(t, o) for t in (r.target for r in page.targets) for o in page.slos.get(t, [])]
    if not shown:
        return
    st.subheader("Service-level objectives")
    heads = ["target", "objective", "attained", "met", "error budget left"]
    if not page.public:
        heads += ["burn now (long / short, fires at)", "alerting"]
    cell = "padding:2px 10px;text-align:left;vertical-align:top"
    body = []
    for target, o in shown:
        c = o.compliance
        period = format_duration(o.period_s)
        over = f" ({_span(o.covered_s)} of {period})" if o.covered_s is not None else ""
        met = "–" if c.met is None else ("yes" if c.met else "no")
        values = [
            html.escape(target),
            html.escape(o.objective.label),
            html.escape(report_fmt.pct(c.attainment, 3) + over),
            met,
            html.escape(report_fmt.pct(c.budget_left, 1)),
        ]
        if not page.public:
            burns = "<br>".join(
                html.escape(
                    f"{b.rule.severity} {format_duration(b.rule.long_s)}/"
                    f"{format_duration(b.rule.short_s)}: {_burn(b.long_burn)} / "
                    f"{_burn(b.short_burn)} (≥ {b.rule.factor:g}×)"
                    + (" firing" if b.firing else "")
                )
                for b in o.burns
            )
            values += [burns, html.escape(_alerting(o, page.now))]
        body.append("<tr>" + "".join(f'<td style="{cell}">{v}</td>' for v in values) + "</tr>")
    head = "".join(f'<th style="{cell}">{h}</th>' for h in heads)
    st.caption(
        f"Attainment and error budget over the last {format_duration(shown[0][1].period_s)}."
    )
    st.markdown(
        f'<table data-testid="brownout-slos" style="font-size:0.9rem;margin-bottom:1em">'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>",
        unsafe_allow_html=True,
    )


def _burn(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}×"


def _alerting(o: ObjectiveNow, now: datetime) -> str:
    """`paging since 10:42 UTC`, `ticket open since …`, `pages now (not sent yet)`, or `no`."""
    parts = []
    for severity, firing, word in (("page", o.paging, "paging"), ("ticket", o.ticket, "ticket")):
        since = o.open_since.get(severity)
        if since is not None:
            parts.append(f"{word} since {_when(since, now)}")
        elif firing:
            parts.append(f"{word} rule fires (not sent)")
    return "; ".join(parts) or "no"


def _ms(value: float | None) -> str:
    return "–" if value is None else f"{value:,.0f} ms"


def figures(page: Page) -> None:
    series, shaded = page.series, page.incidents
    st.subheader("Performance")
    what = "one line per provider" if series.by == "provider" else "one line per target"
    resolution = (
        "one point per probe (few probes in this range)"
        if series.step == 0
        else f"{format_duration(series.step)} points from {format_duration(series.grain)} rollups"
    )
    st.caption(f"{resolution}, {what}; p50 lines with p50–p95 bands; incidents shaded.")
    if not series.lines:
        st.info("No probes in this range yet.")
        return
    left, right = st.columns(2)
    left.plotly_chart(
        charts.timing_chart(series, "ttft", "Time to first token", shaded),
        width="stretch",
    )
    right.plotly_chart(charts.timing_chart(series, "lat", "Latency", shaded), width="stretch")
    left.plotly_chart(
        charts.line_chart(series, lambda a: a.mean("tps"), "Tokens per second", "tok/s", shaded),
        width="stretch",
    )
    right.plotly_chart(charts.error_chart(series, shaded), width="stretch")
    left.plotly_chart(
        charts.line_chart(
            series, lambda a: a.quality_rate, "Canary pass rate", "%", shaded, percent=True
        ),
        width="stretch",
    )
    if not page.public:
        right.plotly_chart(
            charts.line_chart(series, lambda a: a["cost_sum"], "Cost (USD)", "USD", shaded),
            width="stretch",
        )


def incidents(page: Page) -> None:
    st.subheader("Incidents")
    if not page.incidents:
        st.success("No incidents in the last 90 days.")
        return
    rows = [
        {
            "": "open" if i.open else "resolved",
            "target": i.target,
            "worst": _word(i.worst),
            "reasons": ", ".join(i.reasons),
            "started": f"{i.start:%Y-%m-%d %H:%M} UTC",
            "ended": "ongoing" if i.open else f"{i.end:%Y-%m-%d %H:%M} UTC",
            "duration": format_duration(round(i.duration(page.now).total_seconds() / 60) * 60)
            if i.duration(page.now) >= timedelta(minutes=1)
            else "< 1m",
        }
        for i in page.incidents
    ]
    _table(rows)


def transfer_switch(page: Page) -> None:
    st.subheader("Transfer switch")
    st.caption("Which target to use right now, best first (as `brownout route` ranks them).")
    for family, answer in page.route:
        rows: list[dict[str, Any]] = []
        for entry in [*answer.targets, *answer.excluded]:
            status = entry.candidate.status
            row: dict[str, Any] = {
                "rank": str(entry.rank) if entry in answer.targets else "–",
                "target": entry.candidate.target,
                "status": _word(status),
                "score": f"{entry.score:.3f}",
            }
            if not page.public:  # the figures behind a score include prices
                row["why"] = "; ".join(entry.why)
            rows.append(row)
        label = f"**{family}**" if family else "**all targets**"
        best = answer.targets[0].candidate.target if answer.targets else "nothing usable"
        st.markdown(f"{label}: use `{best}`")
        _table(rows)
        if not page.public:  # the why of each, as text: a table cell cuts it off
            st.markdown(
                "\n".join(
                    f"- `{e.candidate.target}`: {e.reason}. " + "; ".join(e.why)
                    for e in [*answer.targets, *answer.excluded]
                )
            )


def recent(page: Page) -> None:
    if page.recent is None:
        return
    st.subheader("Recent probes")
    rows = [
        {
            "time": f"{r.ts:%H:%M:%S}",
            "target": r.target,
            "canary": r.canary,
            "outcome": r.outcome.value,
            "http": "–" if r.http_status is None else str(r.http_status),
            "ttft ms": r.ttft_ms,
            "latency ms": r.latency_ms,
            "tok/s": r.tokens_per_s,
            "canary ok": {True: "yes", False: "no", None: "–"}[r.quality_ok],
            "answer": r.answer,
            "error": r.error,
            "cost $": None if r.cost_usd is None else f"{r.cost_usd:.7f}",
        }
        for r in page.recent
    ]
    _table(rows, height=320)


def downloads(
    store: Store, config: Config, since: datetime, until: datetime, shown: list[str]
) -> None:
    """The report and the raw export of the chosen range, made by the CLI's own code on click."""
    st.subheader("Downloads")
    stamp = f"{since:%Y%m%dT%H%M}-{until:%Y%m%dT%H%M}"
    from monitor.reports.build import build_report
    from monitor.reports.export import export_rows
    from monitor.reports.render import render

    def report(fmt: str) -> Callable[[], str]:
        return lambda: render(build_report(store, config, since, until, shown or None), fmt)

    def export(fmt: str) -> Callable[[], bytes]:
        def make() -> bytes:
            out = io.BytesIO()
            scrubber = Scrubber(config.secrets())
            export_rows(
                store, "results", since, until, fmt, out, targets=shown or None, scrubber=scrubber
            )
            return out.getvalue()

        return make

    # A download is built in memory: past EXPORT_MAX rows, the CLI streams it to a file instead.
    counted = rollups.summary(store, since, until, targets=shown or None, columns=["n"])
    rows = sum(agg.n for agg in counted.values())
    too_many = rows > EXPORT_MAX

    cols = st.columns(6)
    for col, (label, fmt, mime) in zip(
        cols[:4],
        [
            ("Report (Markdown)", "md", "text/markdown"),
            ("Report (HTML)", "html", "text/html"),
            ("Report (CSV)", "csv", "text/csv"),
            ("Report (JSON)", "json", "application/json"),
        ],
        strict=True,
    ):
        col.download_button(label, report(fmt), f"brownout-report-{stamp}.{fmt}", mime)
    cols[4].download_button(
        "Raw results (CSV)",
        export("csv"),
        f"brownout-results-{stamp}.csv",
        "text/csv",
        disabled=too_many,
    )
    cols[5].download_button(
        "Raw results (JSONL)",
        export("jsonl"),
        f"brownout-results-{stamp}.jsonl",
        "application/x-ndjson",
        disabled=too_many,
    )
    if too_many:
        st.caption(
            f"{rows:,} raw results in this range: too many for a download from the page; "
            f"`brownout export --since {since:%Y-%m-%dT%H:%M}Z --format csv -o results.csv` "
            "streams them to a file."
        )


def _uptime(value: float | None, covered: float | None, window: str) -> str:
    """`99.95 %`, or `99.95 % (3 d of 30d)` when the data covers less than the window."""
    if value is None or covered is None:
        return _pct(value)
    return f"{_pct(value)} ({_span(covered)} of {window})"


def _span(seconds: float) -> str:
    if seconds >= 86400:
        days = seconds / 86400
        return f"{days:.0f} d" if days >= 10 else f"{days:.1f} d"
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 60:.0f} min"


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.2f} %"


def _when(ts: datetime, now: datetime) -> str:
    if ts.date() == now.date():
        return f"{ts:%H:%M} UTC"
    return f"{ts:%b %d %H:%M} UTC"
