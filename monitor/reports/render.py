"""`render(report, fmt)`: the report in one of `FORMATS`, as text ready to write or serve."""

from __future__ import annotations

from collections.abc import Callable

from monitor.errors import UsageError
from monitor.reports.formats import REPORT_FORMATS
from monitor.reports.model import Report
from monitor.reports.render_data import render_csv, render_json
from monitor.reports.render_html import render_html
from monitor.reports.render_md import render_markdown

_RENDERERS: dict[str, Callable[[Report], str]] = {
    "md": render_markdown,
    "html": render_html,
    "csv": render_csv,
    "json": render_json,
}
FORMATS = REPORT_FORMATS


def render(report: Report, fmt: str) -> str:
    """The report as `fmt` (md, html, csv or json). Raises UsageError for any other format."""
    try:
        renderer = _RENDERERS[fmt]
    except KeyError:
        raise UsageError(
            f"unknown report format {fmt!r}; use one of {', '.join(FORMATS)}"
        ) from None
    return renderer(report)
