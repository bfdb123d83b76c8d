"""Rollups kept by `results.record` agree with the raw results they summarise."""

from __future__ import annotations

import math
import random
import re
from datetime import UTC, datetime, timedelta

import pytest

from monitor.result import Outcome, ProbeResult
from monitor.store import Store, results, rollups
from monitor.store.rollups import DAY, HOUR, MINUTE

T0 = datetime(2026, 11, 20, 0, 0, tzinfo=UTC)


def probe(ts: datetime, target: str = "openai/gpt-4o-mini", **kw: object) -> ProbeResult:
    provider, _, model = target.partition("/")
    values: dict[str, object] = dict(
        ts=ts,
        target=target,
        provider=provider,
        model=model,
        canary="arithmetic",
        outcome=Outcome.OK,
        ttft_ms=300.0,
        latency_ms=600.0,
        tokens_per_s=40.0,
        quality_ok=True,
        cost_usd=0.00001,
        input_tokens=20,
        output_tokens=3,
    )
    values.update(kw)
    return ProbeResult(**values)  # type: ignore[arg-type]


def exact_percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(1, math.ceil(q * len(ordered))) - 1]


def mixed_day(rng: random.Random, n: int = 1500) -> list[ProbeResult]:
    """Results over two days with lognormal timings and a few failures of each kind."""
    out = []
    for i in range(n):
        ts = T0 + timedelta(seconds=i * 97)
        ttft = rng.lognormvariate(math.log(400), 0.6)
        if i % 50 == 7:
            out.append(probe(ts, outcome=Outcome.TIMEOUT, ttft_ms=None, latency_ms=30000.0))
        elif i % 40 == 3:
            out.append(probe(ts, outcome=Outcome.WRONG_ANSWER, quality_ok=False, ttft_ms=ttft))
        elif i % 90 == 5:
            out.append(probe(ts, outcome=Outcome.RATE_LIMITED, ttft_ms=None, latency_ms=None))
        else:
            latency = ttft + rng.lognormvariate(math.log(300), 0.8)
            tps = rng.lognormvariate(math.log(60), 0.5)
            out.append(probe(ts, ttft_ms=ttft, latency_ms=latency, tokens_per_s=tps))
    return out


@pytest.mark.parametrize("q", [0.5, 0.95, 0.99])
@pytest.mark.parametrize(
    "metric,field", [("ttft", "ttft_ms"), ("lat", "latency_ms"), ("tps", "tokens_per_s")]
)
def test_percentiles_from_merged_rollups_are_within_2_percent_of_the_exact_ones(
    any_store: Store, q: float, metric: str, field: str
) -> None:
    batch = mixed_day(random.Random(5))
    results.record(any_store, batch)
    got = rollups.summary(any_store, T0, T0 + timedelta(days=3))["openai/gpt-4o-mini"]
    answered = [getattr(r, field) for r in batch if r.outcome.answered and getattr(r, field)]
    estimate = got.percentile(metric, q)
    assert estimate is not None
    assert abs(estimate / exact_percentile(answered, q) - 1) <= 0.02


def test_counts_uptime_and_quality_add_up_to_the_raw_results(any_store: Store) -> None:
    batch = mixed_day(random.Random(1))
    # Several calls, as a running monitor makes them: the upserts must add, not replace.
    for start in range(0, len(batch), 100):
        results.record(any_store, batch[start : start + 100])
    got = rollups.summary(any_store, T0, T0 + timedelta(days=3))["openai/gpt-4o-mini"]
    assert got.n == len(batch)
    for outcome in Outcome:
        assert got.count(outcome.value) == sum(r.outcome is outcome for r in batch)
    failures = sum(r.outcome.provider_failure for r in batch)
    assert got.uptime == pytest.approx(1 - failures / len(batch))
    checked = [r.quality_ok for r in batch if r.quality_ok is not None]
    assert got.quality_rate == pytest.approx(sum(checked) / len(checked))
    latencies = [r.latency_ms for r in batch if r.outcome.answered and r.latency_ms]
    assert got["lat_max"] == pytest.approx(max(latencies))
    assert got["lat_min"] == pytest.approx(min(latencies))
    speeds = [r.tokens_per_s for r in batch if r.outcome.answered and r.tokens_per_s]
    assert got.mean("tps") == pytest.approx(sum(speeds) / len(speeds))
    assert got["cost_sum"] == pytest.approx(0.00001 * len(batch))


@pytest.mark.parametrize(
    "since,until",
    [
        (T0 + timedelta(hours=5, minutes=17), T0 + timedelta(days=1, hours=2, minutes=3)),
        (T0 + timedelta(minutes=3), T0 + timedelta(minutes=50)),
        (T0, T0 + timedelta(days=2)),
        (T0 + timedelta(hours=23), T0 + timedelta(days=1, hours=1)),
    ],
)
def test_a_summary_over_any_range_counts_exactly_the_results_inside_it(
    any_store: Store, since: datetime, until: datetime
) -> None:
    batch = mixed_day(random.Random(2))
    results.record(any_store, batch)
    got = rollups.summary(any_store, since, until)
    inside = [r for r in batch if since <= r.ts < until]
    assert got["openai/gpt-4o-mini"].n == len(inside)


@pytest.mark.parametrize(
    "since,until",
    [
        (T0 + timedelta(hours=5, minutes=17), T0 + timedelta(days=3, hours=2, minutes=3)),
        (T0 + timedelta(seconds=30), T0 + timedelta(minutes=1, seconds=10)),
        (T0, T0 + timedelta(days=1)),
    ],
)
def test_the_plan_covers_a_range_once_with_the_coarsest_rows(
    since: datetime, until: datetime
) -> None:
    pieces = rollups.plan(since, until)
    minutes = [m for grain, a, b in pieces for m in range(a, b, MINUTE)]
    lo = int(since.timestamp()) // MINUTE * MINUTE
    hi = -(-int(until.timestamp()) // MINUTE) * MINUTE
    assert minutes == list(range(lo, hi, MINUTE))
    for grain, a, b in pieces:
        assert grain in (MINUTE, HOUR, DAY) and a % grain == 0 and b % grain == 0


def test_fetch_rebuckets_to_the_step_and_keeps_targets_apart(store: Store) -> None:
    batch = [probe(T0 + timedelta(minutes=i), t) for i in range(120) for t in ("a/x", "b/y")]
    results.record(store, batch)
    series = rollups.fetch(store, MINUTE, T0, T0 + timedelta(hours=2), step=15 * MINUTE)
    assert [(a.target, a.n) for a in series[:2]] == [("a/x", 15), ("b/y", 15)]
    assert len(series) == 16
    only_b = rollups.fetch(store, HOUR, T0, T0 + timedelta(hours=2), targets=["b/y"])
    assert [(a.target, a.start, a.n) for a in only_b] == [
        ("b/y", T0, 60),
        ("b/y", T0 + timedelta(hours=1), 60),
    ]


def test_regions_are_kept_apart_and_merged_on_read(any_store: Store) -> None:
    results.record(any_store, [probe(T0, region="eu"), probe(T0, region="us", latency_ms=900.0)])
    (merged,) = rollups.fetch(any_store, DAY, T0, T0 + timedelta(days=1))
    assert merged.n == 2
    assert merged["lat_max"] == 900.0 and merged["lat_min"] == 600.0


def test_groups_merge_their_members_into_one_series_in_sql(any_store: Store) -> None:
    names = ("openai/a", "openai/b", "anthropic/c")
    batch = [probe(T0 + timedelta(minutes=i), name) for i in range(30) for name in names]
    results.record(any_store, batch)
    groups = {"openai": ["openai/a", "openai/b"], "anthropic": ["anthropic/c"]}
    got = rollups.fetch(any_store, HOUR, T0, T0 + timedelta(hours=1), groups=groups)
    assert sorted((a.target, a.n) for a in got) == [("anthropic", 30), ("openai", 60)]


def test_a_column_subset_reads_only_those_figures(store: Store) -> None:
    results.record(store, [probe(T0)])
    (agg,) = rollups.fetch(store, DAY, T0, T0 + timedelta(days=1), columns=rollups.COUNTS)
    assert agg.n == 1 and agg.uptime == 1.0
    assert agg.percentile("lat", 0.5) is None  # no histogram was read


def test_targets_since_come_from_day_rows(store: Store) -> None:
    results.record(store, [probe(T0, "a/x"), probe(T0 - timedelta(days=10), "b/y")])
    assert rollups.targets_since(store, T0 - timedelta(days=1)) == ["a/x"]
    assert rollups.targets_since(store, T0 - timedelta(days=30)) == ["a/x", "b/y"]


def test_a_naive_timestamp_is_rolled_up_as_utc(store: Store) -> None:
    results.record(store, [probe(T0.replace(tzinfo=None) + timedelta(minutes=5))])
    (agg,) = rollups.fetch(store, HOUR, T0, T0 + timedelta(hours=1))
    assert agg.start == T0 and agg.n == 1


def test_a_recent_read_of_hour_rows_on_postgresql_seeks_them_among_the_minute_rows(
    pg_url: str,
) -> None:
    """The last 24 h of hour rows among two days of minute rows: PostgreSQL took the grain and
    the bucket range as independent and estimated 25 times the rows, enough at 26 M results for
    a parallel scan of the whole table (1 GB: the page's first 24 h chart). With the buckets
    named, each is estimated on its own."""
    from sqlalchemy import event, text

    from monitor.store import open_store

    store = open_store(pg_url)
    now = 1_796_256_000  # a UTC midnight
    try:
        with store.engine.begin() as conn:
            for grain, count in ((MINUTE, 2 * 1440), (HOUR, 90 * 24), (DAY, 90)):
                conn.execute(
                    text(
                        "INSERT INTO rollups (grain, bucket, target, region, n) SELECT :g, "
                        ":now - :g * k, 'p/m' || i, 'default', 1 FROM generate_series(1, :c) k, "
                        "generate_series(1, 50) i"
                    ),
                    {"g": grain, "now": now, "c": count},
                )
            conn.execute(text("ANALYZE rollups"))
        seen: list[tuple[str, object]] = []

        def keep(conn: object, cursor: object, statement: str, params: object, *_: object) -> None:
            seen.append((statement, params))

        event.listen(store.engine, "before_cursor_execute", keep)
        since, until = (datetime.fromtimestamp(x, UTC) for x in (now - DAY, now))
        got = rollups.fetch(store, HOUR, since, until, step=HOUR)
        event.remove(store.engine, "before_cursor_execute", keep)
        assert len(got) == 24 * 50 and sum(a.n for a in got) == 24 * 50
        raw = store.engine.raw_connection()
        try:
            cur = raw.cursor()
            plans = []
            for statement, params in seen:
                cur.execute("EXPLAIN " + statement, params)
                plans.append("\n".join(row[0] for row in cur.fetchall()))
        finally:
            raw.close()
        assert len(plans) == 2  # the figures, the sketches
        # The rows the planner expects of the table: 30,549 for the 1,200 there before.
        expected = [
            int(re.search(r"rows=(\d+)", line).group(1))  # type: ignore[union-attr]
            for plan in plans
            for line in plan.splitlines()
            if " on rollups" in line
        ]
        assert expected and max(expected) <= 5 * 24 * 50, plans
        assert not [p for p in plans if "Seq Scan on rollups" in p], plans
    finally:
        store.close()
