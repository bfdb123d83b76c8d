"""`brownout migrate --to URL [--from URL]`: copy the whole history (results, rollups,
transitions, incidents, statuses, the alert log and outbox, status pages) into another database,
typically from SQLite to `postgresql+psycopg://…`, with a progress bar.

Safe to run again after an interruption: it carries on where it stopped, and a finished
migration run again copies nothing (`monitor.store.migrate`). Prints each table's rows in both
databases at the end; exit 1 when they differ. Stop the monitors writing to the source first.
"""

from __future__ import annotations

import argparse
import sys

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
)
from sqlalchemy.engine import make_url

from monitor.config import load_config
from monitor.errors import UsageError
from monitor.store import migrate, open_store


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--to", required=True, metavar="URL", help="the database to copy into")
    parser.add_argument(
        "--from",
        dest="source",
        metavar="URL",
        help="the database to copy from (default: the config's storage.url)",
    )


def _shown(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def run(args: argparse.Namespace) -> int:
    source_url = args.source or load_config(args.config, required=False).storage.url
    if make_url(source_url) == make_url(args.to):
        raise UsageError("--to names the database migrate would copy from")
    source = open_store(source_url, readonly=True)
    try:
        target = open_store(args.to)
        try:
            console = Console(stderr=True)
            console.print(f"copying {_shown(source_url)} into {_shown(args.to)}")
            with Progress(
                TextColumn("{task.description:<22}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeRemainingColumn(),
                console=console,
                disable=not console.is_terminal,
            ) as progress:
                tasks: dict[str, TaskID] = {}
                for table, done, total in migrate.copy_all(source, target):
                    if table not in tasks:
                        tasks[table] = progress.add_task(table, total=total or 1)
                        if not console.is_terminal:
                            console.print(f"  {table}: {total:,} rows")
                    progress.update(tasks[table], completed=done if total else 1)
            before, after = migrate.counts(source), migrate.counts(target)
        finally:
            target.close()
    finally:
        source.close()
    width = max(len(t) for t in before)
    different = [t for t in before if before[t] != after.get(t)]
    for table, n in before.items():
        mark = "" if table not in different else "  (differs)"
        print(f"{table:<{width}}  {n:>12,}  {after.get(table, 0):>12,}{mark}")
    if different:
        print(
            f"{len(different)} table(s) differ: was the source written to meanwhile?",
            file=sys.stderr,
        )
        return 1
    print(f"done: {sum(before.values()):,} rows in {len(before)} tables, equal in both")
    return 0
