"""Retention deletes old raw results and fine rollups, and keeps the figures they rolled up into."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from monitor.config.schema import StorageConfig
from monitor.store import Store, results, retention, rollups
from monitor.store.rollups import DAY, HOUR, MINUTE
from tests.store.test_rollups import probe

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def seed_days(store: Store, days: int) -> None:
    batch = [probe(NOW - timedelta(hours=h, minutes=30)) for h in range(days * 24)]
    results.record(store, batch)


def test_old_raw_results_go_and_their_day_totals_stay(store: Store) -> None:
    # On PostgreSQL whole day partitions go instead: tests/store/test_partitions.py.
    seed_days(store, 40)
    before = rollups.summary(store, NOW - timedelta(days=41), NOW)
    pruned = retention.prune(store, NOW, raw=30 * DAY)
    assert pruned.raw == 40 * 24 - 30 * 24
    assert results.count(store) == 30 * 24
    after = rollups.summary(store, NOW - timedelta(days=41), NOW)
    assert after["openai/gpt-4o-mini"].n == before["openai/gpt-4o-mini"].n == 40 * 24


def test_minute_rollups_older_than_two_days_go_and_hour_rows_stay(store: Store) -> None:
    seed_days(store, 5)
    pruned = retention.prune(store, NOW)
    assert pruned.minute == 3 * 24 and pruned.hour == 0 and pruned.raw == 0
    assert len(rollups.fetch(store, MINUTE, NOW - timedelta(days=5), NOW)) == 2 * 24
    assert len(rollups.fetch(store, HOUR, NOW - timedelta(days=5), NOW)) == 5 * 24


def test_the_config_sets_the_raw_and_rollup_retention(store: Store) -> None:
    seed_days(store, 10)
    config = StorageConfig(raw_retention="3d", rollup_retention="5d")  # type: ignore[arg-type]
    pruned = retention.prune_for(store, config, NOW)
    assert results.count(store) == 3 * 24
    assert pruned.hour == 5 * 24
    assert {a.start for a in rollups.fetch(store, DAY, NOW - timedelta(days=20), NOW)} == {
        datetime(2026, 11, d, tzinfo=UTC) for d in range(23, 29)
    }


def test_pruning_an_empty_store_deletes_nothing(store: Store) -> None:
    assert retention.prune(store, NOW) == retention.Pruned()
