"""Throughput is measured by a default canary, live and in the demo's history (issue 12, defect 3).

One-word answers are one or two tokens, too few to time, so `tokens_per_s` was always null and
the throughput signal blind. The `count` canary answers with about sixty tokens.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path

import httpx

from monitor.canaries.defaults import DEFAULT_CANARIES
from monitor.commands.demo import write_demo_config
from monitor.config import CanaryConfig, load_config
from monitor.demo.backfill import generate
from monitor.probe import run_probe
from monitor.result import Outcome
from monitor.simulator import run_in_thread

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def test_a_default_canary_answers_with_a_few_dozen_tokens() -> None:
    count = CanaryConfig.model_validate(next(c for c in DEFAULT_CANARIES if c["name"] == "count"))
    assert count.max_tokens <= 100  # cheap: a hundred output tokens at most


async def test_the_demos_live_probes_measure_throughput(tmp_path: Path) -> None:
    scenario = str(resources.files("monitor.demo").joinpath("scenario.yaml"))
    with run_in_thread(scenario) as sim:
        config = load_config(write_demo_config(tmp_path, sim.url))
        canary = next(c for c in config.canaries if c.name == "count")
        target = config.targets()[0]
        async with httpx.AsyncClient() as client:
            result = await run_probe(client, target, canary, timeout=30.0)
    assert result.outcome is Outcome.OK, result.error
    assert result.output_tokens is not None and result.output_tokens >= 20
    assert result.tokens_per_s is not None and result.tokens_per_s > 0


def test_the_demos_history_measures_throughput_on_the_long_canary_only() -> None:
    made = list(
        generate(
            ["a/x"],
            NOW - timedelta(hours=2),
            NOW,
            canaries=["arithmetic", "count"],
            answer_tokens={"count": 60},
        )
    )
    answered = [r for r in made if r.outcome.answered]
    assert {r.canary for r in answered} == {"arithmetic", "count"}
    assert all(r.tokens_per_s is not None for r in answered if r.canary == "count")
    assert all(r.tokens_per_s is None for r in answered if r.canary == "arithmetic")


def test_the_demos_history_invents_no_cost_for_a_target_without_a_price() -> None:
    made = list(
        generate(
            ["priced/x", "free/y"],
            NOW - timedelta(hours=1),
            NOW,
            prices={"priced/x": (0.15, 0.60)},
        )
    )
    answered = [r for r in made if r.outcome.answered]
    assert all(r.cost_usd is None for r in answered if r.target == "free/y")
    assert all(r.cost_usd is not None for r in answered if r.target == "priced/x")
