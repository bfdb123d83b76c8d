"""`brownout report --since 30d [--until …] [--target …] --format md|html|csv|json [-o FILE]`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from monitor.errors import UsageError
from monitor.reports.formats import REPORT_FORMATS


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--since", default="30d", help="a duration back from now (30d) or a date (default 30d)"
    )
    parser.add_argument("--until", help="a duration back from now or a date (default now)")
    parser.add_argument(
        "--target",
        action="append",
        metavar="T",
        help="a target, a provider or a pattern (openai/*); repeat for more (default all)",
    )
    parser.add_argument(
        "--format", choices=REPORT_FORMATS, default="md", help="output format (default md)"
    )
    parser.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")


def run(args: argparse.Namespace) -> int:
    # Imported here: the parser of every command is built at start-up, this work only now.
    from monitor.config import load_config
    from monitor.reports.build import build_report
    from monitor.reports.database import open_for_reading
    from monitor.reports.render import render
    from monitor.reports.timerange import parse_range
    from monitor.result import utcnow

    now = utcnow()
    since, until = parse_range(args.since, args.until, now)
    config = load_config(args.config, required=False)
    store = open_for_reading(config)
    try:
        report = build_report(store, config, since, until, args.target, now=now)
    finally:
        store.close()
    text = render(report, args.format)
    if args.output:
        try:
            Path(args.output).write_text(text, encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"cannot write {args.output}: {exc.strerror or exc}") from None
    else:
        sys.stdout.write(text)
    return 0
