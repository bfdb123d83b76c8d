"""`brownout export --since 30d [--until …] --format csv|jsonl|parquet [--table …] [-o FILE]`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import BinaryIO

from monitor.errors import UsageError
from monitor.reports.formats import EXPORT_FORMATS, TABLE_NAMES

Progress = Callable[[int, datetime | None], None]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--since", default="30d", help="a duration back from now (30d) or a date (default 30d)"
    )
    parser.add_argument("--until", help="a duration back from now or a date (default now)")
    parser.add_argument(
        "--format", choices=EXPORT_FORMATS, default="jsonl", help="file format (default jsonl)"
    )
    parser.add_argument(
        "--table", choices=TABLE_NAMES, default="results", help="what to export (default results)"
    )
    parser.add_argument(
        "--target", action="append", metavar="T", help="only this target; repeat for more"
    )
    parser.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")


def run(args: argparse.Namespace) -> int:
    # Imported here: the parser of every command is built at start-up, this work only now.
    from monitor.config import load_config
    from monitor.reports.database import open_for_reading
    from monitor.reports.export import export_rows
    from monitor.reports.timerange import parse_range
    from monitor.result import utcnow
    from monitor.secrets import Scrubber

    now = utcnow()
    since, until = parse_range(args.since, args.until, now)
    if args.format == "parquet" and not args.output and sys.stdout.isatty():
        raise UsageError("Parquet is binary; write it to a file with -o FILE")
    config = load_config(args.config, required=False)
    store = open_for_reading(config)
    try:
        with _output(args.output) as out, _progress_bar(since, until) as progress:
            export_rows(
                store,
                args.table,
                since,
                until,
                args.format,
                out,
                targets=args.target,
                scrubber=Scrubber(config.secrets()),
                progress=progress,
            )
    finally:
        store.close()
    return 0


@contextmanager
def _output(path: str | None) -> Iterator[BinaryIO]:
    if path is None:
        yield sys.stdout.buffer
        sys.stdout.buffer.flush()
        return
    try:
        handle = open(path, "wb")  # noqa: SIM115 - closed below, after the writer has finished
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None
    with handle:
        yield handle


@contextmanager
def _progress_bar(since: datetime, until: datetime) -> Iterator[Progress | None]:
    """A bar on stderr showing how far through the time range the export is; only on a terminal."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, TextColumn, TimeElapsedColumn
    from rich.progress import Progress as Bar

    span = (until - since).total_seconds()
    with Bar(
        TextColumn("exporting"),
        BarColumn(),
        TextColumn("{task.fields[rows]:,} rows"),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as bar:
        task = bar.add_task("export", total=span, rows=0)

        def update(rows: int, ts: datetime | None) -> None:
            done = (ts - since).total_seconds() if isinstance(ts, datetime) else 0.0
            bar.update(task, completed=done, rows=rows)

        yield update
