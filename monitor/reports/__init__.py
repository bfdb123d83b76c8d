"""Historical reports and exports: the public face the CLI, the dashboard and the scheduler use.

    report = build_report(store, config, since, until, targets=["openai/*"])
    text = render(report, "html")                        # md | html | csv | json → str
    export_rows(store, "results", since, until, "parquet", binary_file)   # streamed
    data = export_bytes(store, "incidents", since, until, "csv")          # small tables, buttons

`parse_range("30d", None, now)` turns `--since`/`--until` text into instants. Scheduled reports:
`monitor.reports.scheduled.ReportScheduler`.

The names are loaded on first use (PEP 562): every `brownout` command imports this package to
build its parser, and should not pay for SQLAlchemy queries, Arrow or Plotly it does not use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from monitor.reports.formats import EXPORT_FORMATS, MEDIA_TYPES, REPORT_FORMATS, TABLE_NAMES

if TYPE_CHECKING:
    from monitor.reports.build import build_report, matching_names
    from monitor.reports.export import export_bytes, export_rows
    from monitor.reports.model import Report, ReportIncident, ReportRow
    from monitor.reports.render import render
    from monitor.reports.timerange import parse_range

_LAZY = {
    "build_report": "monitor.reports.build",
    "matching_names": "monitor.reports.build",
    "export_bytes": "monitor.reports.export",
    "export_rows": "monitor.reports.export",
    "ReportRow": "monitor.reports.model",
    "ReportIncident": "monitor.reports.model",
    "Report": "monitor.reports.model",
    "render": "monitor.reports.render",
    "parse_range": "monitor.reports.timerange",
}

__all__ = [
    "EXPORT_FORMATS",
    "MEDIA_TYPES",
    "REPORT_FORMATS",
    "TABLE_NAMES",
    "Report",
    "ReportIncident",
    "ReportRow",
    "build_report",
    "export_bytes",
    "export_rows",
    "matching_names",
    "parse_range",
    "render",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'monitor.reports' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
