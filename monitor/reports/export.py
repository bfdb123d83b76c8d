"""`export_rows(store, table, since, until, fmt, out)`: a table streamed to CSV, JSON Lines or Parquet.

Rows are read in batches and written as they come (Parquet in row groups of `ROW_GROUP` rows), so
memory stays flat however many rows there are. JSON Lines rows of `results` are exactly the
result record of docs/contract.md (`ProbeResult.to_dict`), which `brownout replay` reads back.
Free text (answers, errors) passes through the config's `Scrubber` once more on the way out, so
a key that slipped into the store never leaves it.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from typing import Any, BinaryIO

import pyarrow as pa
import pyarrow.parquet as pq

from monitor.errors import UsageError
from monitor.reports.formats import EXPORT_FORMATS
from monitor.reports.tables import TABLES, Table
from monitor.result import format_ts
from monitor.secrets import Scrubber
from monitor.store import Store

FORMATS = EXPORT_FORMATS
ROW_GROUP = 20_000  # rows per Parquet row group: the memory an export holds at once
PROGRESS_EVERY = 1000

Progress = Callable[[int, datetime | None], None]
"""Called every `PROGRESS_EVERY` rows and at the end with (rows written, last row's ts)."""


def export_rows(
    store: Store,
    table: str,
    since: datetime | None,
    until: datetime | None,
    fmt: str,
    out: BinaryIO,
    *,
    targets: Sequence[str] | None = None,
    scrubber: Scrubber | None = None,
    progress: Progress | None = None,
) -> int:
    """Write `table`'s rows with `since <= ts < until` to `out` as `fmt`; returns the row count.

    Raises UsageError for an unknown table or format.
    """
    if table not in TABLES:
        raise UsageError(f"unknown table {table!r}; use one of {', '.join(TABLES)}")
    if fmt not in FORMATS:
        raise UsageError(f"unknown export format {fmt!r}; use one of {', '.join(FORMATS)}")
    spec = TABLES[table]
    rows = spec.rows(store, since, until, targets, scrubber or Scrubber())
    rows = _counted(rows, progress)
    writer = {"csv": _write_csv, "jsonl": _write_jsonl, "parquet": _write_parquet}[fmt]
    return writer(spec, rows, out)


def export_bytes(
    store: Store,
    table: str,
    since: datetime | None,
    until: datetime | None,
    fmt: str,
    *,
    targets: Sequence[str] | None = None,
    scrubber: Scrubber | None = None,
) -> bytes:
    """`export_rows` into memory, for download buttons. Prefer `export_rows` to a file for big
    ranges of results: this holds the whole file."""
    out = io.BytesIO()
    export_rows(store, table, since, until, fmt, out, targets=targets, scrubber=scrubber)
    return out.getvalue()


def _counted(rows: Iterator[dict[str, Any]], progress: Progress | None) -> Iterator[dict[str, Any]]:
    if progress is None:
        yield from rows
        return
    n, last = 0, None
    for row in rows:
        yield row
        n += 1
        last = row.get("ts")
        if n % PROGRESS_EVERY == 0:
            progress(n, last)
    progress(n, last)


def _text_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return format_ts(value)
    return value


def _write_jsonl(spec: Table, rows: Iterator[dict[str, Any]], out: BinaryIO) -> int:
    n = 0
    for row in rows:
        record = {k: _text_value(v) for k, v in row.items()}
        out.write(json.dumps(record, ensure_ascii=False, separators=(", ", ": ")).encode() + b"\n")
        n += 1
    out.flush()
    return n


def _csv_value(value: Any) -> Any:
    """Spreadsheet-friendly: empty for null, true/false, lists joined by `;`, dicts as JSON."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return format_ts(value)
    if isinstance(value, list | tuple) and not _nested(value):
        return ";".join(str(v) for v in value)
    if isinstance(value, dict | list | tuple):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return value


def _write_csv(spec: Table, rows: Iterator[dict[str, Any]], out: BinaryIO) -> int:
    text = io.TextIOWrapper(out, encoding="utf-8", newline="", write_through=True)
    try:
        names = spec.column_names
        writer = csv.writer(text, lineterminator="\n")
        writer.writerow(names)
        n = 0
        for row in rows:
            writer.writerow([_csv_value(row.get(k)) for k in names])
            n += 1
        text.flush()
    finally:
        text.detach()  # the caller owns `out`; closing the wrapper would close it
    return n


def _write_parquet(spec: Table, rows: Iterator[dict[str, Any]], out: BinaryIO) -> int:
    """Row groups of `ROW_GROUP` rows, buffered by column (a list per column holds a row group in
    a fraction of the memory a list of row dicts would)."""
    schema, names = spec.schema, spec.column_names
    n = 0
    with pq.ParquetWriter(out, schema, compression="zstd") as writer:
        columns: list[list[Any]] = [[] for _ in names]
        buffered = 0

        def flush() -> None:
            arrays = [pa.array(c, type=f.type) for c, f in zip(columns, schema, strict=True)]
            writer.write_table(pa.Table.from_arrays(arrays, schema=schema))
            for column in columns:
                column.clear()

        for row in rows:
            for column, name in zip(columns, names, strict=True):
                column.append(_parquet_value(row.get(name)))
            buffered += 1
            if buffered == ROW_GROUP:
                flush()
                n += buffered
                buffered = 0
        if buffered or n == 0:
            flush()
            n += buffered
    return n


def _nested(value: list[Any] | tuple[Any, ...]) -> bool:
    """A list of lists (`top_logprobs`' pairs): written as JSON, not joined."""
    return any(isinstance(v, list | tuple) for v in value)


def _parquet_value(value: Any) -> Any:
    if isinstance(value, dict) or (isinstance(value, list | tuple) and _nested(value)):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    if isinstance(value, tuple):
        return list(value)
    return value
