"""Burn rates now, from the rollups of a seeded SQLite store (`monitor.read.slo`)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from monitor.read.slo import burning
from monitor.store import Store
from tests.factories import T0, burning_hour, seed, slo_config

NOW = T0 + timedelta(hours=8)


def test_a_target_failing_far_over_its_budget_pages_and_one_without_an_slo_does_not(
    tmp_path: Path, store: Store
) -> None:
    # A quarter of the probes fail, over the hour and in its last five minutes too.
    seed(store, burning_hour(NOW, fail_every=4) + burning_hour(NOW, "other/gpt-4o-mini", 4))
    found = burning(store, slo_config(tmp_path), NOW)
    assert [(target, page.objective.kind) for target, page in found] == [
        ("openai/gpt-4o-mini", "availability")
    ]
    page = found[0][1]
    assert (page.long_s, page.short_s, page.factor) == (3600, 300, 14.4)
    assert round(page.long_burn, 6) == 250.0  # 15 of 60 failed, against 0.1 %


def test_a_burn_whose_short_windows_are_clean_pages_nobody(tmp_path: Path, store: Store) -> None:
    # Failures until 40 minutes ago, none since: the hour and six hours burn, 5 and 30 minutes
    # do not, so the burn has stopped.
    seed(store, burning_hour(NOW - timedelta(minutes=40), fail_every=4, minutes=20))
    seed(store, burning_hour(NOW, fail_every=0, minutes=40))
    assert burning(store, slo_config(tmp_path), NOW) == []


def test_answers_slower_than_the_ttft_objective_page_on_their_own(
    tmp_path: Path, store: Store
) -> None:
    probes = burning_hour(NOW, fail_every=0)
    seed(store, [replace(p, ttft_ms=2500.0) if i % 3 == 0 else p for i, p in enumerate(probes)])
    found = burning(store, slo_config(tmp_path), NOW)
    # A third of the answers over 2 s against the 5 % a p95 allows: 6.7×, the 6-hour pair.
    assert [(t, p.objective.kind, p.factor) for t, p in found] == [
        ("openai/gpt-4o-mini", "ttft_p95", 6.0)
    ]
