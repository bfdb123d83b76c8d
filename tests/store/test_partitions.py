"""Raw results partitioned by day on PostgreSQL (`monitor.store.partitions`): created ahead and on
demand, dropped whole by retention, and an unpartitioned database from before left working."""

from __future__ import annotations

import threading
import time
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import create_engine, text
from sqlmodel import Session, SQLModel

from monitor.store import lease, open_store, partitions, results, retention, rollups
from monitor.store.db import SCHEMA_VERSION, SchemaVersion
from monitor.store.lease import Fenced
from monitor.store.rollups import DAY
from tests.factories import probe

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def _hourly(days: int, target: str = "openai/gpt-4o-mini") -> list:  # type: ignore[type-arg]
    return [probe(NOW - timedelta(hours=h, minutes=30), target) for h in range(days * 24)]


def test_a_new_postgresql_database_keeps_results_in_one_partition_per_day(pg_url: str) -> None:
    store = open_store(pg_url)
    try:
        today = datetime.now(UTC).date()
        made = partitions.rows_by_day(store.engine)
        # Created with the schema: today and the next two days, before any result arrives.
        assert set(made) == {today + timedelta(days=i) for i in range(3)}
        # Any day a result carries gets its partition in the writer's transaction, however old.
        results.record(store, _hourly(3))
        by_day = partitions.rows_by_day(store.engine)
        assert {d: n for d, n in by_day.items() if n} == {
            date(2026, 11, 25): 12,
            date(2026, 11, 26): 24,
            date(2026, 11, 27): 24,
            date(2026, 11, 28): 12,
        }
        assert results.count(store) == 72
        assert [r.ts for r in results.between(store)] == sorted(r.ts for r in _hourly(3))
    finally:
        store.close()


def test_monitors_writing_a_new_day_at_once_all_store_their_results(pg_url: str) -> None:
    stores = [open_store(pg_url) for _ in range(4)]
    barrier = threading.Barrier(len(stores))
    errors: list[BaseException] = []
    day = datetime(2027, 3, 1, 9, tzinfo=UTC)

    def write(i: int) -> None:
        try:
            barrier.wait()
            results.record(stores[i], [probe(day + timedelta(seconds=i), f"p/m{i}")])
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(i,)) for i in range(len(stores))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert errors == []
        assert partitions.rows_by_day(stores[0].engine)[day.date()] == 4
    finally:
        for store in stores:
            store.close()


def test_retention_drops_the_partitions_of_whole_days_older_than_the_retention(
    pg_url: str,
) -> None:
    store = open_store(pg_url)
    try:
        results.record(store, _hourly(40))
        before = rollups.summary(store, NOW - timedelta(days=41), NOW)
        pruned = retention.prune(store, NOW, raw=30 * DAY)
        by_day = partitions.rows_by_day(store.engine)
        cutoff = NOW - timedelta(days=30)  # 2026-10-29 12:00
        # Every day that ended by the cutoff is gone with its partition; the cutoff's own day
        # stays whole until it has ended (12 results older than the cutoff, for up to a day).
        assert min(by_day) == cutoff.date()
        assert by_day[cutoff.date()] == 24
        assert pruned.raw == 40 * 24 - 30 * 24 - 12
        assert results.count(store) == 30 * 24 + 12
        after = rollups.summary(store, NOW - timedelta(days=41), NOW)
        assert after["openai/gpt-4o-mini"].n == before["openai/gpt-4o-mini"].n == 40 * 24
        # Run again: nothing more to drop, and the days ahead are there.
        assert retention.prune(store, NOW, raw=30 * DAY).raw == 0
        assert (NOW + timedelta(days=2)).date() in partitions.rows_by_day(store.engine)
    finally:
        store.close()


def test_an_unpartitioned_postgresql_database_from_before_keeps_working_and_deletes_rows(
    pg_url: str,
) -> None:
    # The layout a build before partitioning created: SQLModel's plain tables, at today's version.
    engine = create_engine(pg_url)
    SQLModel.metadata.create_all(engine)
    with Session(engine) as session:
        session.add(SchemaVersion(version=SCHEMA_VERSION))
        session.commit()
    engine.dispose()
    store = open_store(pg_url)
    try:
        with store.engine.connect() as conn:
            assert not partitions.is_partitioned(conn)
            kind = conn.execute(
                text("SELECT relkind FROM pg_class WHERE oid = to_regclass('probe_results')")
            ).scalar()
        assert kind == "r"  # still the plain table: not converted
        assert partitions.rows_by_day(store.engine) == {}
        results.record(store, _hourly(40))
        pruned = retention.prune(store, NOW, raw=30 * DAY)
        assert pruned.raw == 40 * 24 - 30 * 24  # row by row, to the hour, as before
        assert results.count(store) == 30 * 24
    finally:
        store.close()


def test_a_paused_ex_leader_drops_no_partition_once_another_monitor_holds_the_lease(
    pg_url: str,
) -> None:
    store, other = open_store(pg_url), open_store(pg_url)
    token = lease.acquire(store, "a:1", "eu-west", ttl=0.3)
    assert token is not None
    fenced = lease.fenced_store(store, token)
    try:
        results.record(store, _hourly(40))
        before = partitions.rows_by_day(store.engine)
        time.sleep(0.5)  # "paused" past the lease; another monitor (the second connection) leads
        assert lease.acquire(other, "b:2", "us-east", ttl=30) == token + 1
        with pytest.raises(Fenced):
            retention.prune(fenced, NOW, raw=30 * DAY)
        after = partitions.rows_by_day(store.engine)
        assert {day: after.get(day) for day in before} == before  # (the days ahead were made)
        assert results.count(store) == 40 * 24
        # The new leader's own retention drops them.
        token2 = lease.current(other)
        assert token2 is not None
        leader = lease.fenced_store(other, token2.token)
        try:
            assert retention.prune(leader, NOW, raw=30 * DAY).raw == 40 * 24 - 30 * 24 - 12
        finally:
            leader.close()
    finally:
        fenced.close()
        store.close()
        other.close()


def test_no_monitor_takes_the_lease_while_the_leader_drops_a_partition(pg_url: str) -> None:
    store, other = open_store(pg_url), open_store(pg_url)
    token = lease.acquire(store, "a:1", "eu-west", ttl=0.3)
    assert token is not None
    fenced = lease.fenced_store(store, token)
    taken: list[int | None] = []
    try:
        with lease.holding(fenced):
            time.sleep(0.5)  # the lease has run out, but the token still holds the row
            asking = threading.Thread(
                target=lambda: taken.append(lease.acquire(other, "b:2", "us-east", ttl=30))
            )
            asking.start()
            with store.engine.connect() as conn:
                waits = text("SELECT count(*) FROM pg_locks WHERE NOT granted")
                while not conn.execute(waits).scalar_one():  # the other monitor waits on the row
                    conn.rollback()
                    time.sleep(0.01)
            assert taken == []
        asking.join()
        assert taken == [token + 1]  # once the leader's block is over
    finally:
        fenced.close()
        store.close()
        other.close()


def _scans_planned(store: object, run: object) -> tuple[int, object]:
    """What `run()` returns, and how many partition scans PostgreSQL plans for the statements it
    executes (each one's EXPLAIN, counted by the partitions' index names)."""
    from sqlalchemy import event

    engine = store.engine  # type: ignore[attr-defined]
    seen: list[tuple[str, object]] = []

    def keep(conn: object, cursor: object, statement: str, params: object, *_: object) -> None:
        seen.append((statement, params))

    event.listen(engine, "before_cursor_execute", keep)
    try:
        value = run()  # type: ignore[operator]
    finally:
        event.remove(engine, "before_cursor_execute", keep)
    scans = 0
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        for statement, params in seen:
            if not statement.lstrip().upper().startswith(("SELECT", "WITH")):
                continue
            cur.execute("EXPLAIN " + statement, params)
            scans += sum(" on probe_results_p" in row[0] for row in cur.fetchall())
    finally:
        raw.close()
    return scans, value


def test_the_newest_result_of_many_targets_is_planned_once_over_the_day_partitions(
    pg_url: str,
) -> None:
    """`newest_of` for 50 targets plans each day partition once, not once per target: the
    `UNION ALL` of a subquery per target cost ~10 s of planning for 200 targets over 93
    partitions (the status page's first call in a fresh process)."""
    store = open_store(pg_url)
    try:
        names = [f"p/m{i:02d}" for i in range(50)]
        results.record(
            store, [probe(NOW - timedelta(days=d), n) for n in names[:10] for d in range(5)]
        )
        parts = len(partitions.rows_by_day(store.engine))
        scans, newest = _scans_planned(store, lambda: results.newest_of(store, names))
        assert newest == {n: NOW for n in names[:10]}
        assert 0 < scans <= parts  # the old statement: 50 × parts
    finally:
        store.close()


def test_the_known_targets_come_from_the_day_rollups_and_only_older_raw_results_are_scanned(
    pg_url: str,
) -> None:
    """`known_targets` on day partitions: the loose index scan over every partition (0.3–0.9 s
    at 200 targets × 93 days) gives way to the day rollups' targets, plus a scan of the raw
    results older than the oldest day row only (kept longer than the rollups here)."""
    store = open_store(pg_url)
    try:
        recent = [f"p/m{i}" for i in range(6)]
        results.record(store, [probe(NOW - timedelta(days=d), n) for n in recent for d in range(4)])
        results.record(store, [probe(NOW - timedelta(days=20), "old/only-raw")])
        # Its rollups are gone (a rollup retention shorter than the raw one), its result is not.
        with store.session() as session:
            edge = int((NOW - timedelta(days=10)).timestamp())
            session.execute(rollups.rollups.delete().where(rollups.rollups.c.bucket < edge))
        every = sorted([*recent, "old/only-raw"])
        scans, known = _scans_planned(store, lambda: results.known_targets(store))
        assert known == every
        parts = len(partitions.rows_by_day(store.engine))
        # Only the older day's partition (the first MIN, each step); the old scan: 2 × parts.
        assert 0 < scans <= 2 < 2 * parts
    finally:
        store.close()
