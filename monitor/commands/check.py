"""`brownout check`: validate the config; exit 0 when valid, else 2 with `FILE:LINE: message` lines.

With `--cost`, also the tokens and USD per target per day the configured canaries spend
(`monitor.cost`): measured from the stored history where the database has it, else estimated
from the config (prompt length, `max_tokens`, interval, `price:`); each row says which.
"""

from __future__ import annotations

import argparse
import sys
from itertools import groupby

from monitor.config import Config, load_config
from monitor.cost import CanaryCost, daily_cost, measured_history, over_budget
from monitor.errors import ConfigError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--quiet", "-q", action="store_true", help="print nothing when valid")
    parser.add_argument(
        "--cost", action="store_true", help="tokens and USD per target per day of the canaries"
    )


def run(args: argparse.Namespace) -> int:
    config = load_config(args.config)  # ConfigError → every problem printed, exit 2 (monitor.cli)
    for warning in config.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    history, note = measured_history(config) if args.cost else ({}, "")
    rows = daily_cost(config, history)
    check_budget(config, rows)  # refused: exit 2 before anything is called valid
    if not args.quiet:
        targets = config.targets()
        print(
            f"{config.path}: valid; {len(targets)} target(s), {len(config.canaries)} canary(ies), "
            f"{len(config.alerts)} alert channel(s)"
        )
    if args.cost:
        print(note)
        print(format_cost(rows))
        print(budget_line(config, rows))
    return 0


def budget_line(config: Config, rows: list[CanaryCost]) -> str:
    """The budget, and whether the day's canaries stay within it."""
    budget = config.budget
    if budget.usd_per_day is None and budget.tokens_per_day is None:
        return "budget: none set (budget: {usd_per_day: …, tokens_per_day: …})"
    limits = [f"${budget.usd_per_day:,.4f}/day" if budget.usd_per_day is not None else None,
              f"{budget.tokens_per_day:,.0f} tokens/day"
              if budget.tokens_per_day is not None else None]  # fmt: skip
    verdict = "over" if over_budget(budget, rows) else "within"
    return f"budget: {', '.join(x for x in limits if x)} ({budget.action}): {verdict}"


def check_budget(config: Config, rows: list[CanaryCost]) -> None:
    """Warn on stderr, or refuse the config (ConfigError: exit 2), when the canaries' daily cost
    exceeds `budget:`, as its `action` says."""
    problem = over_budget(config.budget, rows)
    if problem is None:
        return
    where = f"{config.path or 'config'}: budget"
    if config.budget.action == "refuse":
        raise ConfigError([f"{where}: {problem}"])
    print(f"warning: {where}: {problem}", file=sys.stderr)


def _usd(value: float | None) -> str:
    return "no price" if value is None else f"${value:,.4f}"


def _subtotal(target: str, label: str, rows: list[CanaryCost]) -> str:
    tokens = sum(r.tokens_per_day for r in rows)
    priced = [r.usd_per_day for r in rows if r.usd_per_day is not None]
    usd = sum(priced) if len(priced) == len(rows) else None
    return f"{target:<32} {label:<27} {'':>10} {'':>12} {tokens:>11,.0f} {_usd(usd):>10}"


def format_cost(rows: list[CanaryCost]) -> str:
    """A plain table: one line per canary, a line per target, and the total."""
    lines = [
        f"{'target':<32} {'canary':<18} {'tier':<8} {'probes/day':>10} {'tokens/probe':>12} "
        f"{'tokens/day':>11} {'USD/day':>10}  source"
    ]
    total_tokens, total_usd, unpriced = 0.0, 0.0, 0
    for target, group in groupby(rows, key=lambda r: r.target):
        canaries = list(group)
        for r in canaries:
            lines.append(
                f"{r.target:<32} {r.canary:<18} {r.tier:<8} {r.probes_per_day:>10,.0f} "
                f"{r.input_tokens + r.output_tokens:>12,.1f} {r.tokens_per_day:>11,.0f} "
                f"{_usd(r.usd_per_day):>10}  {r.source}"
            )
        tiers = sorted({r.tier for r in canaries})
        if len(tiers) > 1:
            for tier in tiers:
                lines.append(
                    _subtotal(target, f"(tier {tier})", [r for r in canaries if r.tier == tier])
                )
        lines.append(_subtotal(target, "(per day)", canaries))
        tokens = sum(r.tokens_per_day for r in canaries)
        priced = [r.usd_per_day for r in canaries if r.usd_per_day is not None]
        total_tokens += tokens
        total_usd += sum(priced)
        unpriced += len(canaries) - len(priced)
    note = f" ({unpriced} canary row(s) without a price)" if unpriced else ""
    lines.append(
        f"total: {total_tokens:,.0f} tokens/day, ${total_usd:,.4f}/day, "
        f"${total_usd * 30:,.2f}/30 days{note}"
    )
    return "\n".join(lines)
