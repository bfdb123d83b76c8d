"""The outbox tables on SQLite and PostgreSQL: grouping, claiming, ordering, state per pair."""

from __future__ import annotations

from datetime import timedelta

from monitor.store import Store, outbox
from monitor.store.outbox import AlertLogRow, Message
from tests.alerts.conftest import T0

LEASE = timedelta(minutes=10)


def message(events: list[str], wait_s: float = 30, channel: str = "oncall") -> Message:
    return Message(
        channel=channel,
        addresses=["json://a/…", "mailto://b/…"],
        events=[{"target": e} for e in events],
        due_at=T0 + timedelta(seconds=wait_s),
    )


def test_alerts_written_while_a_message_waits_join_it_on_every_destination(
    any_store: Store,
) -> None:
    outbox.commit(any_store, [], [message(["a/1"])], T0)
    outbox.commit(any_store, [], [message(["b/1", "c/1"])], T0 + timedelta(seconds=10))
    outbox.commit(any_store, [], [message(["d/1"], channel="other")], T0 + timedelta(seconds=10))

    rows = outbox.all_rows(any_store)

    assert [(r.channel, r.destination) for r in rows] == [
        ("oncall", 0),
        ("oncall", 1),
        ("other", 0),
        ("other", 1),
    ]
    assert [e["target"] for e in rows[0].event_list()] == ["a/1", "b/1", "c/1"]
    assert rows[0].event_list() == rows[1].event_list()


def test_a_claimed_message_is_not_joined_and_cannot_be_claimed_twice(any_store: Store) -> None:
    outbox.commit(any_store, [], [message(["a/1"], wait_s=0)], T0)
    first, _ = outbox.due(any_store, T0, LEASE)

    assert outbox.claim(any_store, first, T0) is not None
    assert outbox.claim(any_store, first, T0) is None  # the second sender loses

    outbox.commit(any_store, [], [message(["b/1"])], T0)
    assert len(outbox.all_rows(any_store)) == 4


def test_a_row_claimed_by_a_sender_that_stopped_is_due_again_after_the_lease(
    any_store: Store,
) -> None:
    outbox.commit(any_store, [], [message(["a/1"], wait_s=0)], T0)
    row = outbox.due(any_store, T0, LEASE)[0]
    outbox.claim(any_store, row, T0)

    assert row.id not in [r.id for r in outbox.due(any_store, T0 + LEASE / 2, LEASE)]
    [stale] = [r for r in outbox.due(any_store, T0 + LEASE, LEASE) if r.id == row.id]
    again = outbox.claim(any_store, stale, T0 + LEASE)

    assert again is not None and again.resent and again.attempts == 2


def test_the_oldest_undelivered_row_of_each_destination_goes_first(any_store: Store) -> None:
    outbox.commit(any_store, [], [message(["a/1"], wait_s=0)], T0)
    outbox.commit(any_store, [], [message(["a/2"], wait_s=0)], T0)
    first_mail = outbox.all_rows(any_store)[1]
    assert first_mail.id is not None
    outbox.finish(any_store, first_mail.id, T0, title="t", body="b", error=None, retry_at=None)

    queues = outbox.undelivered(any_store)
    rows = outbox.all_rows(any_store)

    assert queues == {("oncall", 0): [rows[0].id, rows[2].id], ("oncall", 1): [rows[3].id]}


def test_the_newest_log_row_of_each_pair_is_its_state(any_store: Store) -> None:
    def log(channel: str, target: str, told: str) -> AlertLogRow:
        return AlertLogRow(
            recorded_at=T0, ts=T0, channel=channel, target=target, old="x", new=told,
            decision="queued", told=told, actual=told,
        )  # fmt: skip

    outbox.commit(any_store, [log("a", "t/1", "degraded"), log("b", "t/1", "degraded")], [], T0)
    outbox.commit(any_store, [log("a", "t/1", "down")], [], T0)

    states = outbox.latest_states(any_store)

    assert {pair: row.told for pair, row in states.items()} == {
        ("a", "t/1"): "down",
        ("b", "t/1"): "degraded",
    }
    assert states[("a", "t/1")].ts == T0


def _decision(channel: str, target: str, at: timedelta) -> AlertLogRow:
    ts = T0 + at
    return AlertLogRow(
        recorded_at=ts, ts=ts, channel=channel, target=target, old="operational", new="down",
        decision="queued",
    )  # fmt: skip


def test_retention_prunes_sent_messages_and_old_decisions_but_keeps_pending_and_state(
    any_store: Store,
) -> None:
    from monitor.store import retention

    day = timedelta(days=1)
    for age_days in (200, 100, 1):  # three messages, two destinations each
        created = T0 - age_days * day
        alert = Message("oncall", ["json://a/…", "mailto://b/…"], [{"target": "a/1"}], created)
        outbox.commit(any_store, [], [alert], created)
    rows = outbox.all_rows(any_store)
    for row in rows[:4]:  # the two old messages: one delivered, one failed (per destination)
        claimed = outbox.claim(any_store, row, row.created_at)
        assert claimed is not None and claimed.id is not None
        failed = row.destination == 1
        outbox.finish(
            any_store, claimed.id, row.created_at, title="t", body="b",
            error="refused" if failed else None, retry_at=None,
        )  # fmt: skip
    outbox.finish(  # an old message still pending (retried) is kept, whatever its age
        any_store, rows[1].id or 0, T0 - 100 * day, title="t", body="b", error="x",
        retry_at=T0 + day,
    )  # fmt: skip
    old, older, newest = (-200 * day, -150 * day, -100 * day)
    decisions = [_decision("oncall", "a/1", at) for at in (older, old, newest)]
    decisions += [_decision("oncall", "b/1", old), _decision("oncall", "c/1", -day)]
    outbox.commit(any_store, decisions, [], T0)

    pruned = retention.prune(any_store, T0, alerts=90 * 86400)

    kept = outbox.all_rows(any_store)
    assert [(r.created_at, r.status) for r in kept] == [
        (T0 - 200 * day, "pending"),
        (T0 - day, "pending"),
        (T0 - day, "pending"),
    ]
    assert [(r.target, r.recorded_at) for r in outbox.log_rows(any_store)] == [
        ("a/1", T0 + newest),  # the newest of each pair is its state: kept however old
        ("b/1", T0 + old),
        ("c/1", T0 - day),
    ]
    assert (pruned.outbox, pruned.alert_log) == (3, 2)
    assert set(outbox.latest_states(any_store)) == {
        ("oncall", "a/1"),
        ("oncall", "b/1"),
        ("oncall", "c/1"),
    }
