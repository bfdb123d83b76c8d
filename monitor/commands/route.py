"""`brownout route [--json] [--family F] [--need N]`: the transfer switch, from the command line.

Prints the targets to use now, best first, each with why it ranks where it does; targets that
are down are listed apart. `--json` prints the same answer as `GET /api/route`.
"""

from __future__ import annotations

import argparse
import json
from datetime import timedelta

from rich.console import Console
from rich.table import Table

from monitor.config import load_config
from monitor.durations import parse_duration
from monitor.errors import UsageError
from monitor.route import NEEDS, Answer, route
from monitor.store import open_store


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print the answer as JSON")
    parser.add_argument("--family", metavar="F", help="a family from the config's families:")
    parser.add_argument(
        "--need",
        default="balanced",
        choices=sorted(NEEDS),
        help="what matters most (default balanced)",
    )
    parser.add_argument(
        "--window",
        default="15m",
        metavar="D",
        help="how far back recent figures reach (default 15m)",
    )


def run(args: argparse.Namespace) -> int:
    try:
        window = timedelta(seconds=parse_duration(args.window))
    except ValueError as exc:
        raise UsageError(f"--window: {exc}") from None
    config = load_config(args.config, required=False)
    store = open_store(config.storage.url)
    try:
        answer = route(store, config, family=args.family, need=args.need, window=window)
    finally:
        store.close()
    if args.json:
        print(json.dumps(answer.to_dict(), ensure_ascii=False))
    else:
        _print(answer)
    return 0


def _print(answer: Answer) -> None:
    console = Console()
    title = f"transfer switch: {answer.family or 'all targets'}, need={answer.need}"
    table = Table(title=title, title_justify="left")
    for column in ("#", "target", "status", "score", "why"):
        table.add_column(column)
    for entry in answer.targets + answer.excluded:
        c = entry.candidate
        table.add_row(
            str(entry.rank) if entry.rank else "-",
            c.target,
            c.status.value,
            f"{entry.score:.2f}",
            entry.reason + "\n" + "; ".join(entry.why[1:]),
        )
    console.print(table)
    if not answer.targets:
        console.print("[red]every target is down: nothing to switch to[/red]")
