"""`brownout replay --input F.jsonl [--config F] [--interval D] [--json]`: backtest detection
over recorded results.

Reads result records one per line (as `brownout once --json` and `brownout export --format jsonl`
write them), runs the same detector `brownout run` uses on the records' own timestamps, and prints
every transition: one JSON object a line with `--json` (`{"ts", "target", "old", "new",
"reasons"}`), else a table. Each target is judged on the spacing of its own records (or on
`--interval`), not on the config's interval. It ends with a summary: results, targets, span, the
intervals used, transitions and incidents found, beside the incidents the database holds for the
same targets and span when there is one (read only; on stderr with `--json`, so that stdout
stays one transition a line). Writes no database. A line that is not a result record, or an
input with no records at all, stops it with exit 2 and one sentence.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO

from monitor.config import Config, load_config
from monitor.detect.engine import replay, spacing_of
from monitor.detect.types import Status, Transition
from monitor.durations import parse_duration
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
    parser.add_argument(
        "--interval",
        metavar="DURATION",
        help="judge every target as probed this often (default: the spacing of its records)",
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


def _interval(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        seconds = parse_duration(text)
    except ValueError:
        seconds = -1.0
    if not seconds > 0 or seconds == float("inf"):
        raise UsageError(f"--interval {text!r} is not a positive duration such as 60s or 1m")
    return seconds


def _seconds(value: float) -> str:
    return f"{value:g} s" if value < 60 else f"{value / 60:g} min"


def summary(
    results: list[ProbeResult],
    transitions: list[Transition],
    interval: float | None,
    stored: int | None,
) -> str:
    """One paragraph: what was replayed, on which intervals, and what it found."""
    targets = sorted({r.target for r in results})
    first, last = min(r.ts for r in results), max(r.ts for r in results)
    if interval is not None:
        used = f"every target judged at one probe per {_seconds(interval)} (--interval)"
    else:
        spacing, _per = spacing_of(sorted(results, key=lambda r: r.ts))
        values = sorted({round(v, 1) for v in spacing.values()})
        shown = ", ".join(_seconds(v) for v in values[:3]) + (", …" if len(values) > 3 else "")
        used = f"intervals from the records' spacing ({shown or 'a single probe each'})"
    found = sum(1 for t in transitions if t.new in BAD and t.old not in BAD)
    stale = sum(1 for t in transitions if t.new is Status.UNKNOWN)
    compared = (
        f"{stored} stored in the database for these targets and span"
        if stored is not None
        else "no database to compare with"
    )
    return (
        f"replayed {len(results):,} results of {len(targets)} target(s) from {format_ts(first)} "
        f"to {format_ts(last)}; {used}; {len(transitions):,} transitions ({stale} to unknown "
        f"for gaps in the records); {found} incident(s) found, {compared}."
    )


BAD = (Status.DEGRADED, Status.DOWN)


def stored_incidents(config: Config, results: list[ProbeResult]) -> int | None:
    """How many incidents the configured database holds for the replayed targets and span, or
    None when there is no database to read."""
    from sqlalchemy.engine import make_url

    from monitor.store import detection as stored
    from monitor.store import open_store

    url = config.storage.url
    try:
        parsed = make_url(url)
        local = parsed.get_backend_name() == "sqlite"
        if local and not (parsed.database and Path(parsed.database).is_file()):
            return None  # no SQLite file: nothing stored (and none is created)
        store = open_store(url, readonly=True, create=False)
    except Exception:  # not a URL, or no database there: nothing to compare with
        return None
    try:
        targets = sorted({r.target for r in results})
        first, last = min(r.ts for r in results), max(r.ts for r in results)
        return len(stored.incidents_between(store, first, last, targets))
    except Exception:  # not a brownout database, or unreadable: nothing to compare with
        return None
    finally:
        store.close()


def run(args: argparse.Namespace) -> int:
    # The config is optional: its detection settings are used when there is one.
    config: Config = load_config(args.config, required=False)
    interval = _interval(args.interval)
    results = load_results(args.input)
    if not results:
        name = "stdin" if args.input == "-" else args.input
        raise UsageError(f"{name} holds no result records: there is nothing to replay")
    transitions = replay(results, config, interval=interval)
    print_transitions(transitions, args.json, sys.stdout)
    text = summary(results, transitions, interval, stored_incidents(config, results))
    (sys.stderr if args.json else sys.stdout).write(text + "\n")
    return 0
