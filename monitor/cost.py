"""What the canaries cost: tokens and USD per target per day, for `brownout check --cost`.

    rows = daily_cost(config, history)   # history: token_means of the last week, or {}

Per (target, canary) a probe's tokens come from the **measured** history when the database has
probes of it with token counts (the mean over the last `HISTORY_DAYS` days), else from the
**config**: the prompt's length at about four characters a token plus a few tokens of message
framing, and the answer at its full `max_tokens` (an upper bound). Probes a day are 86,400 over
the canary's cadence (its `every:`, else the target's interval), times its `burst`. USD uses the
target's `price:` (per million tokens); none without one. Each row names the canary's workload
tier, and `over_budget` compares the day's total with `budget:`.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import timedelta

from monitor.config import Config
from monitor.config.schema import BudgetConfig
from monitor.errors import StorageError
from monitor.probe import make_prompt
from monitor.result import utcnow
from monitor.store import open_store
from monitor.store.probe_stats import TokenMeans, token_means
from monitor.target import Target

HISTORY_DAYS = 7
CHARS_PER_TOKEN = 4.0
FRAMING_TOKENS = 8  # role markers and message framing a provider counts as input


@dataclass(frozen=True, slots=True)
class CanaryCost:
    target: str
    canary: str
    probes_per_day: float
    input_tokens: float  # per probe
    output_tokens: float  # per probe
    usd_per_day: float | None
    source: str  # "measured (N probes)" or "config estimate"
    tier: str = "short"

    @property
    def tokens_per_day(self) -> float:
        return self.probes_per_day * (self.input_tokens + self.output_tokens)


def estimate_tokens(config: Config, target: Target) -> dict[str, tuple[float, float]]:
    """`{canary: (input, output)}` tokens per probe from the config alone (see module doc)."""
    out: dict[str, tuple[float, float]] = {}
    for canary in config.canaries_for(target):
        prompt, _expect = make_prompt(canary, random.Random(0))
        chars = len(prompt.text) + len(prompt.system or "")
        out[canary.name] = (
            math.ceil(chars / CHARS_PER_TOKEN) + FRAMING_TOKENS,
            float(prompt.max_tokens),
        )
    return out


def daily_cost(config: Config, history: dict[tuple[str, str], TokenMeans]) -> list[CanaryCost]:
    """One row per (target, canary), in config order."""
    rows = []
    for target in config.targets():
        estimates = estimate_tokens(config, target)
        for round_ in config.rounds_for(target):
            per_day = 86400.0 / round_.every * round_.burst
            for c in round_.canaries:
                rows.append(_row(target, c.name, c.workload, per_day, estimates[c.name], history))
    order = {c.name: i for i, c in enumerate(config.canaries)}
    names = {t.name: i for i, t in enumerate(config.targets())}
    return sorted(rows, key=lambda r: (names[r.target], order[r.canary]))


def _row(
    target: Target,
    canary: str,
    tier: str,
    per_day: float,
    estimate: tuple[float, float],
    history: dict[tuple[str, str], TokenMeans],
) -> CanaryCost:
    measured = history.get((target.name, canary))
    if measured is not None and measured.probes:
        tokens_in, tokens_out = measured.input_tokens, measured.output_tokens
        source = f"measured ({measured.probes} probes)"
    else:
        tokens_in, tokens_out = estimate
        source = "config estimate"
    usd = None
    if target.price is not None:
        per_probe = tokens_in * target.price.input + tokens_out * target.price.output
        usd = per_day * per_probe / 1_000_000
    return CanaryCost(target.name, canary, per_day, tokens_in, tokens_out, usd, source, tier)


def over_budget(budget: BudgetConfig, rows: list[CanaryCost]) -> str | None:
    """Why the day's canaries (`rows`) exceed `budget`, in one sentence; None within it (or
    with no budget set). Rows without a price count no USD."""
    tokens = sum(r.tokens_per_day for r in rows)
    usd = sum(r.usd_per_day or 0.0 for r in rows)
    over = []
    if budget.usd_per_day is not None and usd > budget.usd_per_day:
        over.append(f"${usd:,.4f} a day against a budget of ${budget.usd_per_day:,.4f}")
    if budget.tokens_per_day is not None and tokens > budget.tokens_per_day:
        over.append(f"{tokens:,.0f} tokens a day against a budget of {budget.tokens_per_day:,.0f}")
    if not over:
        return None
    return (
        "the configured canaries would spend "
        + " and ".join(over)
        + ("; lengthen their every: or interval, or drop canaries")
    )


def measured_history(config: Config) -> tuple[dict[tuple[str, str], TokenMeans], str]:
    """Measured tokens of the last week from the config's database, read-only, and a line that
    says where the figures come from; none (and why) when there is no database."""
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
