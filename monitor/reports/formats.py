"""The names of report and export formats and tables: a module without heavy imports, so the
command line can offer them as choices without loading Plotly or Arrow."""

from __future__ import annotations

REPORT_FORMATS = ("md", "html", "csv", "json")
EXPORT_FORMATS = ("jsonl", "csv", "parquet")
TABLE_NAMES = ("results", "incidents", "transitions")

# Media types of every report and export format, for download buttons and HTTP responses.
MEDIA_TYPES = {
    "md": "text/markdown",
    "html": "text/html",
    "csv": "text/csv",
    "json": "application/json",
    "jsonl": "application/x-ndjson",
    "parquet": "application/vnd.apache.parquet",
}
