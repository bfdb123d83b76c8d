"""Probe results as people read them in a terminal: `once` prints a table, `demo` a live one."""

from __future__ import annotations

from collections.abc import Sequence

from rich.table import Table

from monitor.result import Outcome, ProbeResult

_STYLE = {
    Outcome.OK: "green",
    Outcome.WRONG_ANSWER: "yellow",
    Outcome.RATE_LIMITED: "magenta",
    Outcome.CANCELLED: "dim",
}

COLUMNS = ("time", "target", "canary", "outcome", "ttft", "latency", "tok/s", "answer / error")


def _ms(value: float | None) -> str:
    return "—" if value is None else f"{value:,.0f} ms"


def cells(result: ProbeResult) -> list[str]:
    text = result.error if result.error else (result.answer or "")
    text = " ".join(text.split())
    return [
        result.ts.astimezone().strftime("%H:%M:%S"),
        result.target,
        result.canary,
        result.outcome.value,
        _ms(result.ttft_ms),
        _ms(result.latency_ms),
        "—" if result.tokens_per_s is None else f"{result.tokens_per_s:.0f}",
        text[:60] + ("…" if len(text) > 60 else ""),
    ]


def results_table(batch: Sequence[ProbeResult], title: str | None = None) -> Table:
    table = Table(title=title, expand=False, header_style="bold")
    for column in COLUMNS:
        table.add_column(
            column, justify="right" if column in ("ttft", "latency", "tok/s") else "left"
        )
    for result in batch:
        table.add_row(*cells(result), style=_STYLE.get(result.outcome, "red"))
    return table
