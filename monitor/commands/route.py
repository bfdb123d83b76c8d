"""`brownout route [--format table|json|litellm|openrouter] [--family F] [--need N]`: the
transfer switch, from the command line.

Prints the targets to use now, best first, each with why it ranks where it does; targets that
are down are listed apart. `--format json` (or `--json`) prints the same answer as
`GET /api/route`; `litellm` a LiteLLM router config block (YAML), `openrouter` an OpenRouter
provider-routing request fragment (JSON), both from `monitor.gateways`.
"""

from __future__ import annotations

import argparse
import json
import math
from datetime import timedelta

import yaml
from rich.console import Console
from rich.table import Table

from monitor import gateways
from monitor.config import load_config
from monitor.durations import parse_duration
from monitor.errors import UsageError
from monitor.route import NEEDS, Answer, Preferences, route
from monitor.store import open_store

FORMATS = ("table", "json", "litellm", "openrouter")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--format",
        choices=FORMATS,
        help="table (default), json (as GET /api/route), litellm (a router config block, YAML) "
        "or openrouter (a provider routing request fragment, JSON)",
    )
    parser.add_argument("--json", action="store_true", help="the same as --format json")
    parser.add_argument(
        "--max-ttft-p90",
        metavar="D",
        help="prefer targets whose TTFT p90 is at most D (800ms, 1.5s); others rank after them",
    )
    parser.add_argument(
        "--min-tokens-per-s",
        metavar="N",
        help="prefer targets whose median tokens/s is at least N; others rank after them",
    )
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


def _preferences(args: argparse.Namespace) -> Preferences:
    ttft: float | None = None
    if args.max_ttft_p90:
        try:
            ttft = parse_duration(args.max_ttft_p90) * 1000
        except ValueError as exc:
            raise UsageError(f"--max-ttft-p90: {exc}") from None
        if ttft <= 0:
            raise UsageError("--max-ttft-p90 must be more than 0")
    tps: float | None = None
    if args.min_tokens_per_s:
        try:
            tps = float(args.min_tokens_per_s)
        except ValueError:
            tps = math.nan
        if not math.isfinite(tps) or tps <= 0:
            raise UsageError(
                f"--min-tokens-per-s must be a number above 0, got {args.min_tokens_per_s!r}"
            )
    return Preferences(max_ttft_p90_ms=ttft, min_tokens_per_s=tps)


def run(args: argparse.Namespace) -> int:
    if args.json and args.format not in (None, "json"):
        raise UsageError(f"--json and --format {args.format} ask for two formats; give one")
    chosen = "json" if args.json else args.format or "table"
    try:
        window = timedelta(seconds=parse_duration(args.window))
    except ValueError as exc:
        raise UsageError(f"--window: {exc}") from None
    preferences = _preferences(args)
    config = load_config(args.config, required=False)
    store = open_store(config.storage.url)
    try:
        answer = route(
            store,
            config,
            family=args.family,
            need=args.need,
            window=window,
            preferences=preferences,
        )
    finally:
        store.close()
    if chosen == "json":
        print(json.dumps(answer.to_dict(), ensure_ascii=False))
    elif chosen == "litellm":
        print(_litellm_header(answer), end="")
        print(yaml.safe_dump(gateways.litellm(answer, config.targets()), sort_keys=False), end="")
    elif chosen == "openrouter":
        print(json.dumps(gateways.openrouter(answer, config.targets()), ensure_ascii=False))
    else:
        _print(answer)
    return 0


def _litellm_header(answer: Answer) -> str:
    family = answer.family or "all targets"
    return (
        f"# brownout route --format litellm: {family}, need={answer.need}, "
        f"ranked at {answer.generated_at:%Y-%m-%d %H:%M:%S} UTC\n"
        "# api_key names an environment variable LiteLLM reads; brownout writes no key.\n"
    )


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
