"""`brownout replay --input F.jsonl [--config F] [--json]`: backtest detection over recorded results.

Reads result records one per line (as `brownout once --json` and `brownout export --format jsonl`
write them), runs the same detector `brownout run` uses on the records' own timestamps, and prints
every transition: one JSON object a line with `--json` (`{"ts", "target", "old", "new",
"reasons"}`), else a table. Touches no database. A line that is not a result record stops it
with exit 2 and the line number.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO

from monitor.config import Config, load_config
from monitor.detect.engine import replay
from monitor.detect.types import Transition
from monitor.errors import UsageError
from monitor.result import ProbeResult, format_ts


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--input",
        "-i",
        required=True,
        metavar="F.jsonl",
        help="result records, one JSON object a line ('-' for stdin)",
    )
    parser.add_argument("--json", action="store_true", help="one JSON transition a line")


def read_results(lines: Iterable[str], name: str = "input") -> Iterator[ProbeResult]:
    """Parse result records, one a line (blank lines skipped). Raises UsageError naming the
    first bad line."""
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            if not isinstance(data, dict):
                raise ValueError("it is not a JSON object")
            if "ts" not in data or "outcome" not in data or "target" not in data:
                raise ValueError("it needs at least ts, target and outcome")
            yield ProbeResult.from_dict(data)
        except (ValueError, TypeError, KeyError) as exc:
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise UsageError(f"{name}:{number}: not a result record ({reason})") from None


def load_results(path: str) -> list[ProbeResult]:
    """Every result record in the file at `path` ('-' for stdin)."""
    if path == "-":
        return list(read_results(sys.stdin, "stdin"))
    try:
        with Path(path).open(encoding="utf-8") as handle:
            return list(read_results(handle, path))
    except FileNotFoundError:
        raise UsageError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: cannot read it ({exc})") from None


def print_transitions(transitions: list[Transition], as_json: bool, out: IO[str]) -> None:
    if as_json:
        for t in transitions:
            out.write(json.dumps(t.to_dict()) + "\n")
        return
    if not transitions:
        out.write("no transitions\n")
        return
    width = max(len(t.target) for t in transitions)
    out.write(f"{'time':<24}  {'target':<{width}}  {'old':<11}  {'new':<11}  reasons\n")
    for t in transitions:
        out.write(
            f"{format_ts(t.ts):<24}  {t.target:<{width}}  {t.old.value:<11}  "
            f"{t.new.value:<11}  {', '.join(t.reasons)}\n"
        )


def run(args: argparse.Namespace) -> int:
    # The config is optional: its detection settings and intervals are used when there is one.
    config: Config = load_config(args.config, required=False)
    results = load_results(args.input)
    print_transitions(replay(results, config), args.json, sys.stdout)
    return 0
