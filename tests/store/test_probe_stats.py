"""The store reads the API adds (`probe_stats`, `statuspages`), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest

from monitor.config.families import family_problems
from monitor.result import parse_ts
from monitor.statuspages.model import OfficialComponent, OfficialIncident
from monitor.store import Store
from monitor.store import results as stored
from monitor.store import statuspages as official
from monitor.store.probe_stats import figures, history, percentile, totals
from tests.factories import probe

T0 = parse_ts("2026-11-28T10:00:00Z")


def test_totals_sum_counts_costs_and_cumulative_buckets(any_store: Store) -> None:
    stored.record(
        any_store,
        [
            probe(
                T0 + timedelta(seconds=i),
                "openai/gpt-4o-mini",
                outcome=o,
                **({"ttft_ms": t, "latency_ms": t * 2} if t is not None else {}),
            )
            for i, (o, t) in enumerate(
                [("ok", 100.0), ("ok", 400.0), ("wrong_answer", 900.0), ("timeout", None)]
            )
        ],
    )

    rows = totals(
        any_store,
        None,
        T0 + timedelta(minutes=1),
        ttft_bounds_ms=[250, 1000],
        latency_bounds_ms=[500],
    )

    by_outcome = {r.outcome: r for r in rows}
    assert sorted(by_outcome) == ["ok", "timeout", "wrong_answer"]
    assert by_outcome["ok"].probes == 2
    assert by_outcome["ok"].ttft_buckets == [1, 2]
    assert by_outcome["ok"].latency_buckets == [1]  # 200 ms and 800 ms
    assert by_outcome["ok"].ttft_sum_ms == pytest.approx(500.0)
    assert by_outcome["timeout"].ttft_count == 0 and by_outcome["timeout"].latency_count == 0
    assert by_outcome["ok"].cost_usd == pytest.approx(2e-5)
    assert (
        totals(any_store, T0 + timedelta(seconds=2), T0 + timedelta(seconds=3))[0].outcome
        == "wrong_answer"
    )


def test_figures_and_history_summarise_a_window(any_store: Store) -> None:
    stored.record(
        any_store,
        [
            probe(T0 + timedelta(minutes=i), "a/m", outcome=o)
            for i, o in enumerate(["ok", "overloaded", "rate_limited", "ok"])
        ],
    )

    f = figures(any_store, T0, T0 + timedelta(hours=1))["a/m"]
    assert (f.counted, f.answered, f.failures) == (4, 2, 1)
    assert f.answered_ratio == 0.5 and f.probe_availability == 0.75
    buckets = history(any_store, "a/m", T0, T0 + timedelta(minutes=4), timedelta(minutes=2))
    assert [b.probes for _, b in buckets] == [2, 2]


@pytest.mark.parametrize(
    ("values", "q", "expected"),
    [([], 0.5, None), ([3.0], 0.95, 3.0), ([1.0, 2.0, 3.0, 4.0], 0.5, 2.5)],
)
def test_percentile(values: list[float], q: float, expected: float | None) -> None:
    assert percentile(values, q) == expected


def test_status_page_polls_replace_components_and_keep_incidents(any_store: Store) -> None:
    first = [
        OfficialComponent("p", "c1", "API", "major_outage"),
        OfficialComponent("p", "c2", "Chat", "operational"),
    ]
    posted = OfficialIncident("p", "i1", "Errors", "investigating", "major", T0)
    official.save_poll(any_store, "p", first, [posted], T0)
    official.save_poll(
        any_store,
        "p",
        [OfficialComponent("p", "c1", "API", "operational")],
        [],
        T0 + timedelta(minutes=5),
    )

    assert [(c.name, c.status) for c in official.components(any_store)] == [("API", "operational")]
    [kept] = official.incidents_between(any_store, T0 - timedelta(hours=1))
    assert kept.incident_id == "i1" and kept.created_at == T0
    assert (
        official.incidents_between(any_store, T0 - timedelta(hours=2), T0 - timedelta(hours=1))
        == []
    )


def test_family_problems_name_members_that_are_not_targets() -> None:
    problems = family_problems(
        {
            "fast": ["openai/gpt-4o-mini", "nope/model", "bare", "gemini/gemini-2.5-flash"],
            "empty": [],
        },
        ["openai/gpt-4o-mini"],
        skipped=["gemini"],
    )

    assert problems == [
        "families.fast: 'nope/model' is not a configured target",
        "families.fast: 'bare' is not PROVIDER/MODEL",
        "families.empty: a family needs at least one target",
    ]


def test_known_targets_is_empty_without_results(any_store: Store) -> None:
    assert stored.known_targets(any_store) == []


def test_known_targets_lists_each_target_once_in_order(any_store: Store) -> None:
    names = ["b/m", "a/m", "openrouter/meta-llama/llama-3.3-70b-instruct", "a/m", "b/m"]
    stored.record(any_store, [probe(T0 + timedelta(seconds=i), n) for i, n in enumerate(names)])

    assert stored.known_targets(any_store) == sorted(set(names))
