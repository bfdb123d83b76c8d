"""`brownout check`: validate the config; exit 0 when valid, else 2 with `FILE:LINE: message` lines.

With `--cost`, also the tokens and USD per target per day the configured canaries spend
(`monitor.cost`): measured from the stored history where the database has it, else estimated
from the config (prompt length, `max_tokens`, interval, `price:`); each row says which.
"""

from __future__ import annotations

import argparse
import sys
from datetime import timedelta
from itertools import groupby

from monitor.config import Config, load_config
from monitor.cost import HISTORY_DAYS, CanaryCost, daily_cost
from monitor.errors import StorageError
from monitor.result import utcnow
from monitor.store import open_store
from monitor.store.probe_stats import TokenMeans, token_means


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--quiet", "-q", action="store_true", help="print nothing when valid")
    parser.add_argument(
        "--cost", action="store_true", help="tokens and USD per target per day of the canaries"
    )


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
    if args.cost:
        history, note = _history(config)
        print(note)
        print(format_cost(daily_cost(config, history)))
    return 0


def _history(config: Config) -> tuple[dict[tuple[str, str], TokenMeans], str]:
    """Measured tokens of the last week, read-only; none (and why) when there is no database."""
    try:
        store = open_store(config.storage.url, readonly=True)
    except StorageError:
        return {}, "no stored history: every figure is estimated from the config"
    try:
        history = token_means(store, utcnow() - timedelta(days=HISTORY_DAYS))
    except StorageError:
        history = {}
    finally:
        store.close()
    return history, (
        f"measured: mean tokens of the last {HISTORY_DAYS} days' probes where stored; "
        "estimated: prompt at ~4 characters a token, answer at its full max_tokens"
    )


def _usd(value: float | None) -> str:
    return "no price" if value is None else f"${value:,.4f}"


def format_cost(rows: list[CanaryCost]) -> str:
    """A plain table: one line per canary, a line per target, and the total."""
    lines = [
        f"{'target':<32} {'canary':<18} {'probes/day':>10} {'tokens/probe':>12} "
        f"{'tokens/day':>11} {'USD/day':>10}  source"
    ]
    total_tokens, total_usd, unpriced = 0.0, 0.0, 0
    for target, group in groupby(rows, key=lambda r: r.target):
        canaries = list(group)
        for r in canaries:
            lines.append(
                f"{r.target:<32} {r.canary:<18} {r.probes_per_day:>10,.0f} "
                f"{r.input_tokens + r.output_tokens:>12,.1f} {r.tokens_per_day:>11,.0f} "
                f"{_usd(r.usd_per_day):>10}  {r.source}"
            )
        tokens = sum(r.tokens_per_day for r in canaries)
        priced = [r.usd_per_day for r in canaries if r.usd_per_day is not None]
        usd = sum(priced) if len(priced) == len(canaries) else None
        lines.append(f"{target:<32} {'(per day)':<18} {'':>10} {'':>12} {tokens:>11,.0f} "
                     f"{_usd(usd):>10}")  # fmt: skip
        total_tokens += tokens
        total_usd += sum(priced)
        unpriced += len(canaries) - len(priced)
    note = f" ({unpriced} canary row(s) without a price)" if unpriced else ""
    lines.append(
        f"total: {total_tokens:,.0f} tokens/day, ${total_usd:,.4f}/day, "
        f"${total_usd * 30:,.2f}/30 days{note}"
    )
    return "\n".join(lines)
