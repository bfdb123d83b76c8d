"""The leader lease and its fencing token, on a SQLite file and on PostgreSQL."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest

from monitor.detect.types import Status, TargetStatus, Transition
from monitor.store import Store, detection, lease, open_store, outbox
from monitor.store.lease import Fenced
from monitor.store.outbox import AlertLogRow, Message

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def _second(store: Store) -> Store:
    """Another monitor's connection to the same database."""
    return open_store(str(store.engine.url.render_as_string(hide_password=False)))


def test_of_two_monitors_asking_at_once_exactly_one_gets_the_lease(any_store: Store) -> None:
    other = _second(any_store)
    try:
        first = lease.acquire(any_store, "a:1", "eu-west", ttl=30)
        second = lease.acquire(other, "b:2", "us-east", ttl=30)
    finally:
        other.close()
    assert first == 1
    assert second is None
    info = lease.current(any_store)
    assert info is not None
    assert (info.holder, info.region, info.token, info.live) == ("a:1", "eu-west", 1, True)


def test_a_renewed_lease_is_kept_and_an_expired_one_goes_to_the_next_with_a_new_token(
    any_store: Store,
) -> None:
    token = lease.acquire(any_store, "a:1", "eu-west", ttl=0.5)
    assert token is not None
    assert lease.renew(any_store, "a:1", token, ttl=0.5)
    assert lease.acquire(any_store, "b:2", "us-east", ttl=30) is None
    time.sleep(0.7)  # the holder stopped renewing: the lease runs out
    taken = lease.acquire(any_store, "b:2", "us-east", ttl=30)
    assert taken == token + 1
    assert not lease.renew(any_store, "a:1", token, ttl=30)


def test_a_released_lease_is_taken_at_once(any_store: Store) -> None:
    token = lease.acquire(any_store, "a:1", "eu-west", ttl=3600)
    assert token is not None
    assert lease.release(any_store, "a:1", token)
    assert lease.acquire(any_store, "b:2", "us-east", ttl=30) == token + 1


def _transition() -> Transition:
    return Transition(NOW, "openai/gpt-4o-mini", Status.OPERATIONAL, Status.DOWN, ["errors"])


def test_a_paused_ex_leader_writes_nothing_once_another_monitor_holds_the_lease(
    any_store: Store,
) -> None:
    token = lease.acquire(any_store, "a:1", "eu-west", ttl=0.3)
    assert token is not None
    told: list[bool] = []
    fenced = lease.fenced_store(any_store, token, on_fenced=lambda: told.append(True))
    try:
        detection.save_transitions(fenced, [_transition()])  # still the leader: written
        time.sleep(0.5)  # "paused" past the lease; another monitor takes over
        assert lease.acquire(any_store, "b:2", "us-east", ttl=30) == token + 1
        with pytest.raises(Fenced):
            detection.save_detection(
                fenced,
                transitions=[_transition()],
                statuses=[TargetStatus("openai/gpt-4o-mini", Status.DOWN, NOW)],
                now=NOW,
            )
        log = AlertLogRow(
            recorded_at=NOW, ts=NOW, channel="oncall", target="t", old="a", new="b", decision="x"
        )
        with pytest.raises(Fenced):
            outbox.commit(
                fenced, [log], [Message("oncall", ["json://127.0.0.1:9/x"], [{}], NOW)], NOW
            )
    finally:
        fenced.close()
    assert told == [True, True]
    assert len(detection.transitions_between(any_store)) == 1
    assert detection.stored_statuses(any_store) == {}
    assert outbox.all_rows(any_store) == []


def test_an_outbox_claim_of_an_ex_leader_is_refused(any_store: Store) -> None:
    log = AlertLogRow(
        recorded_at=NOW, ts=NOW, channel="oncall", target="t", old="a", new="b", decision="x"
    )
    outbox.commit(any_store, [log], [Message("oncall", ["json://127.0.0.1:9/x"], [{}], NOW)], NOW)
    [row] = outbox.due(any_store, NOW, lease=timedelta(minutes=10))
    token = lease.acquire(any_store, "a:1", "eu-west", ttl=0.3)
    assert token is not None
    fenced = lease.fenced_store(any_store, token)
    try:
        time.sleep(0.5)
        assert lease.acquire(any_store, "b:2", "us-east", ttl=30) is not None
        with pytest.raises(Fenced):
            outbox.claim(fenced, row, NOW)
    finally:
        fenced.close()
    [still] = outbox.all_rows(any_store)
    assert (still.status, still.attempts) == ("pending", 0)


def test_monitors_opening_a_fresh_postgresql_database_at_once_all_get_one_schema(
    pg_url: str,
) -> None:
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def open_one() -> None:
        barrier.wait()
        try:
            open_store(pg_url).close()
        except BaseException as exc:  # collected for the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=open_one) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


def test_an_outbox_claim_carries_the_leaders_token_and_only_that_token_marks_it(
    any_store: Store,
) -> None:
    log = AlertLogRow(
        recorded_at=NOW, ts=NOW, channel="oncall", target="t", old="a", new="b", decision="x"
    )
    outbox.commit(any_store, [log], [Message("oncall", ["json://127.0.0.1:9/x"], [{}], NOW)], NOW)
    token = lease.acquire(any_store, "a:1", "eu-west", ttl=30)
    assert token is not None
    fenced = lease.fenced_store(any_store, token)
    try:
        [row] = outbox.due(fenced, NOW, lease=timedelta(minutes=10))
        claimed = outbox.claim(fenced, row, NOW)
        assert claimed is not None and claimed.claim_token == token and claimed.id is not None
        # A sender without the token (another process on the database) cannot mark it.
        assert not outbox.finish(
            any_store, claimed.id, NOW, title="t", body="b", error=None, retry_at=None
        )
        assert outbox.finish(
            fenced, claimed.id, NOW, title="t", body="b", error=None, retry_at=None
        )
    finally:
        fenced.close()
    [done] = outbox.all_rows(any_store)
    assert (done.status, done.claim_token) == ("delivered", token)
