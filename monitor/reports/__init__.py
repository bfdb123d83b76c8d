"""Historical reports and exports: the public face the CLI, the dashboard and the scheduler use.

    report = build_report(store, config, since, until, targets=["openai/*"])
    text = render(report, "html")                        # md | html | csv | json → str
    export_rows(store, "results", since, until, "parquet", binary_file)   # streamed
    data = export_bytes(store, "incidents", since, until, "csv")          # small tables, buttons

`parse_range("30d", None, now)` turns `--since`/`--until` text into instants. Scheduled reports:
`monitor.reports.scheduled.ReportScheduler`.
"""

from monitor.reports.build import build_report, select_targets
from monitor.reports.export import FORMATS as EXPORT_FORMATS
from monitor.reports.export import export_bytes, export_rows
from monitor.reports.model import Figures, IncidentRow, Report
from monitor.reports.render import FORMATS as REPORT_FORMATS
from monitor.reports.render import MEDIA_TYPES, render
from monitor.reports.tables import TABLES
from monitor.reports.timerange import parse_range

__all__ = [
    "EXPORT_FORMATS",
    "MEDIA_TYPES",
    "REPORT_FORMATS",
    "TABLES",
    "Figures",
    "IncidentRow",
    "Report",
    "build_report",
    "export_bytes",
    "export_rows",
    "parse_range",
    "render",
    "select_targets",
]
