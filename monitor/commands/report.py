"""`brownout report --since 30d [--until …] [--target …] [--region …] --format md|html|csv|json
[-o FILE]`."""

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
        "--region",
        action="append",
        metavar="R",
        help="only the probes from region R (as `brownout run --region` stamps them); repeat "
        "for more (default all; the report has a by-region section when there are several)",
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
    from monitor.store import rollups

    now = utcnow()
    since, until = parse_range(args.since, args.until, now)
    config = load_config(args.config, required=False)
    store = open_for_reading(config)
    try:
        regions = args.region or None
        if regions:
            known = rollups.regions_since(store, since)
            unknown = [r for r in regions if r not in known]
            if unknown:
                raise UsageError(
                    f"no results from region {', '.join(unknown)} in this range; "
                    f"regions with results: {', '.join(known) or 'none'}"
                )
        report = build_report(store, config, since, until, args.target, now=now, regions=regions)
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
