"""What the canaries cost: tokens and USD per target per day, for `brownout check --cost`.

    rows = daily_cost(config, history)   # history: token_means of the last week, or {}

Per (target, canary) a probe's tokens come from the **measured** history when the database has
probes of it with token counts (the mean over the last `HISTORY_DAYS` days), else from the
**config**: the prompt's length at about four characters a token plus a few tokens of message
framing, and the answer at its full `max_tokens` (an upper bound). Probes a day are 86,400 over
the target's interval. USD uses the target's `price:` (per million tokens); none without one.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from monitor.config import Config
from monitor.probe import make_prompt
from monitor.store.probe_stats import TokenMeans
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
        per_day = 86400.0 / target.interval
        for canary, (est_in, est_out) in estimate_tokens(config, target).items():
            measured = history.get((target.name, canary))
            if measured is not None and measured.probes:
                tokens_in, tokens_out = measured.input_tokens, measured.output_tokens
                source = f"measured ({measured.probes} probes)"
            else:
                tokens_in, tokens_out, source = est_in, est_out, "config estimate"
            usd = None
            if target.price is not None:
                per_probe = tokens_in * target.price.input + tokens_out * target.price.output
                usd = per_day * per_probe / 1_000_000
            rows.append(
                CanaryCost(target.name, canary, per_day, tokens_in, tokens_out, usd, source)
            )
    return rows
