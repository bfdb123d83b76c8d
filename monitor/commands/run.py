"""`brownout run` (not built yet)."""

from __future__ import annotations

import argparse

from monitor.errors import UsageError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    pass


def run(args: argparse.Namespace) -> int:
    raise UsageError("'run' is not built yet")
