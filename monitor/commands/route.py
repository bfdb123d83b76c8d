"""`brownout route` (not built yet)."""

from __future__ import annotations

import argparse

from monitor.errors import UsageError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    pass


def run(args: argparse.Namespace) -> int:
    raise UsageError("'route' is not built yet")
