"""`brownout notify-test [--config F]`: send one test message to every alert channel and say, per
channel and destination, whether it was delivered. Exit 1 if any was not; 2 if there are no
channels. Addresses are shown with their secrets masked."""

from __future__ import annotations

import argparse
import sys

from monitor.alerts import channels, messages
from monitor.config import load_config
from monitor.errors import UsageError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--channel", action="append", metavar="NAME", help="only this channel (repeatable)"
    )


def run(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    for warning in config.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    chosen = [c for c in config.alerts if not args.channel or c.name in args.channel]
    if not chosen:
        raise UsageError("no alert channels to test; add one under alerts: in the config")
    failed = 0
    for channel in chosen:
        message = messages.test_message(channel.name)
        for dest in channels.destinations(channel):
            try:
                channels.send(dest, message.title, message.body, message.notify_type)
            except Exception as exc:  # report every destination, whatever went wrong
                failed += 1
                print(f"{channel.name}: NOT delivered to {dest.address}: {dest.scrub(str(exc))}")
            else:
                print(f"{channel.name}: delivered to {dest.address}")
    return 1 if failed else 0
