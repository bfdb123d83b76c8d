"""`brownout check`: validate the config; exit 0 when valid, else 2 with `FILE:LINE: message` lines."""

from __future__ import annotations

import argparse
import sys

from monitor.config import load_config


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--quiet", "-q", action="store_true", help="print nothing when valid")


def run(args: argparse.Namespace) -> int:
    config = load_config(args.config)  # ConfigError → every problem printed, exit 2 (monitor.cli)
    for warning in config.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if not args.quiet:
        targets = config.targets()
        print(
            f"{config.path}: valid; {len(targets)} target(s), {len(config.canaries)} canary(ies), "
            f"{len(config.alerts)} alert channel(s)"
        )
    return 0
