"""The report as data files: JSON (everything) and CSV (one row per fleet, provider and target)."""

from __future__ import annotations

import csv
import dataclasses
import io
import json

from monitor.reports.model import Report, ReportRow


def render_json(report: Report) -> str:
    return json.dumps(report.to_dict(), indent=2, ensure_ascii=False) + "\n"


FIGURE_COLUMNS = [f.name for f in dataclasses.fields(ReportRow)]


def render_csv(report: Report) -> str:
    """Raw numbers (fractions, seconds, milliseconds), empty where there is no value; the
    per-region rows come last, with scope `region` and their `region`.

    The incident list is `brownout export --table incidents`; a CSV holds one table.
    """
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=FIGURE_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for figures in [report.fleet, *report.providers, *report.targets, *report.regions]:
        writer.writerow(dataclasses.asdict(figures))
    return buffer.getvalue()
