"""The alert outbox and the alert log: what was decided about each transition, and every message.

Two tables, written and read by `monitor.alerts`:

- `alert_log`: one row per (transition or reminder, channel): the decision (`queued`, `reminded`,
  `silenced`, `cooldown`, `filtered`, `duplicate`, `ignored`) and the channel's state after it
  (`told`: the status the channel was last told; `actual`: the target's last known status;
  `state`: the rest, as JSON). The newest row of a (channel, target) pair is that pair's state,
  so a restart carries on where it stopped.
- `alert_outbox`: one row per message and destination (an Apprise URL or config file). Written in
  the same transaction as the log rows, then sent by the delivery loop. Its `status` moves
  `pending` → `sending` (claimed, attempts+1) → `delivered`, or back to `pending` with a later
  `due_at` after a failure, or to `failed` when the delivery loop gives up. A claim carries the
  claiming leader's fencing token (`claim_token`): a newer leader takes over the claims of an
  older token at once (the claim lease of 10 minutes is for senders without one), and a mark
  (`finish`) under any other token than the claim's is refused.

Neither grows for ever: `prune` deletes delivered and failed messages, and decisions, older than
the retention (`storage.alert_retention`), keeping every pending message and the newest
decision of each pair (its state). `brownout run` runs it with the other retention, hourly.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Column, DateTime, Index, Text, and_, delete, func, or_, update
from sqlmodel import Field, SQLModel, col, select

from monitor.store.db import Store
from monitor.store.lease import FencedStore

PENDING, SENDING, DELIVERED, FAILED = "pending", "sending", "delivered", "failed"


def _ts(nullable: bool = True) -> Any:
    return Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=nullable))


class AlertLogRow(SQLModel, table=True):
    __tablename__ = "alert_log"
    __table_args__ = (Index("ix_alert_log_pair", "channel", "target", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    recorded_at: datetime = _ts(nullable=False)
    ts: datetime = _ts(nullable=False)
    channel: str
    target: str
    old: str
    new: str
    reasons: str = Field(default="[]", sa_column=Column(Text, nullable=False))
    details: str = Field(default="{}", sa_column=Column(Text, nullable=False))
    decision: str
    note: str | None = None
    batch: str | None = None
    told: str = "operational"  # what the channel was last told about the target
    actual: str = "operational"  # the target's last known status (unknown is not a status here)
    # The rest of the pair's state (incident start, worst, last alert …), JSON; see monitor.alerts.
    state: str = Field(default="{}", sa_column=Column(Text, nullable=False))


class OutboxRow(SQLModel, table=True):
    __tablename__ = "alert_outbox"
    __table_args__ = (
        Index("ix_alert_outbox_status_due", "status", "due_at"),
        Index("ix_alert_outbox_batch", "batch"),
    )

    id: int | None = Field(default=None, primary_key=True)
    batch: str
    channel: str
    destination: int = 0
    address: str = ""  # the destination with its secrets masked, for display
    kind: str = "alert"  # alert | reminder
    events: str = Field(default="[]", sa_column=Column(Text, nullable=False))
    status: str = PENDING
    attempts: int = 0
    created_at: datetime = _ts(nullable=False)
    due_at: datetime = _ts(nullable=False)
    claimed_at: datetime | None = _ts()
    # The fencing token of the leader that claimed it (`monitor.store.lease`); None when claimed
    # through a store without one.
    claim_token: int | None = None
    last_attempt_at: datetime | None = _ts()
    delivered_at: datetime | None = _ts()
    last_error: str | None = Field(default=None, sa_column=Column(Text))
    resent: bool = False  # claimed again after the monitor stopped mid-send (may be a repeat)
    title: str | None = Field(default=None, sa_column=Column(Text))
    body: str | None = Field(default=None, sa_column=Column(Text))

    def event_list(self) -> list[dict[str, Any]]:
        loaded: list[dict[str, Any]] = json.loads(self.events)
        return loaded


@dataclass
class Message:
    """A message to write: its events go to every destination of `channel`.

    A `groupable` message joins the channel's open batch (pending, never attempted, still
    waiting for `due_at`) when there is one, so alerts that arrive together go out together.
    """

    channel: str
    addresses: list[str]
    events: list[dict[str, Any]]
    due_at: datetime
    kind: str = "alert"
    groupable: bool = True
    logs: list[AlertLogRow] = field(default_factory=list)


def _aware(ts: datetime | None) -> datetime | None:
    return ts.replace(tzinfo=UTC) if ts is not None and ts.tzinfo is None else ts


def _fix(row: OutboxRow) -> OutboxRow:
    for name in ("created_at", "due_at", "claimed_at", "last_attempt_at", "delivered_at"):
        setattr(row, name, _aware(getattr(row, name)))
    return row


def _fix_log(row: AlertLogRow) -> AlertLogRow:
    for name in ("recorded_at", "ts"):
        setattr(row, name, _aware(getattr(row, name)))
    return row


def latest_states(
    store: Store, targets: Sequence[str] | None = None
) -> dict[tuple[str, str], AlertLogRow]:
    """The newest log row of every (channel, target) pair (of `targets`, when given): that
    pair's alerting state."""
    newest_q = select(func.max(AlertLogRow.id))
    if targets is not None:
        newest_q = newest_q.where(col(AlertLogRow.target).in_(list(targets)))
    newest = newest_q.group_by(col(AlertLogRow.channel), col(AlertLogRow.target)).scalar_subquery()
    query = select(AlertLogRow).where(col(AlertLogRow.id).in_(newest))
    with store.session() as session:
        rows = [_fix_log(r) for r in session.exec(query)]
    return {(r.channel, r.target): r for r in rows}


def log_rows(
    store: Store, channel: str | None = None, target: str | None = None
) -> list[AlertLogRow]:
    """Every log row (of a channel and/or target), oldest first."""
    query = select(AlertLogRow).order_by(col(AlertLogRow.id))
    if channel is not None:
        query = query.where(AlertLogRow.channel == channel)
    if target is not None:
        query = query.where(AlertLogRow.target == target)
    with store.session() as session:
        return [_fix_log(r) for r in session.exec(query)]


def commit(
    store: Store, logs: Sequence[AlertLogRow], messages: Sequence[Message], now: datetime
) -> int:
    """Write `logs` and `messages` in one transaction; returns how many outbox rows were added.

    Each message's own log rows (`Message.logs`) get the batch they were written to.
    """
    with store.session() as session:
        return write_messages(session, logs, messages, now)


def write_messages(
    session: Any, logs: Sequence[AlertLogRow], messages: Sequence[Message], now: datetime
) -> int:
    """`commit`'s writes inside a session the caller holds (so other rows of the store can be
    written in the same transaction); returns how many outbox rows were added."""
    added = 0
    for message in messages:
        batch = _join_open_batch(session, message, now) if message.groupable else None
        if batch is None:
            batch = uuid.uuid4().hex
            for index, address in enumerate(message.addresses):
                session.add(
                    OutboxRow(
                        batch=batch,
                        channel=message.channel,
                        destination=index,
                        address=address,
                        kind=message.kind,
                        events=json.dumps(message.events, default=str),
                        created_at=now,
                        due_at=message.due_at,
                    )
                )
                added += 1
        for log in message.logs:
            log.batch = batch
    session.add_all(logs)
    return added


def _join_open_batch(session: Any, message: Message, now: datetime) -> str | None:
    query = (
        select(OutboxRow)
        .where(
            OutboxRow.channel == message.channel,
            OutboxRow.kind == message.kind,
            OutboxRow.status == PENDING,
            OutboxRow.attempts == 0,
            col(OutboxRow.due_at) > now,
        )
        .order_by(col(OutboxRow.id))
        .limit(1)
    )
    first = session.exec(query).first()
    if first is None:
        return None
    events = json.dumps([*first.event_list(), *message.events], default=str)
    # Conditional: if the delivery loop claimed the batch meanwhile, start a new one instead.
    result = session.exec(
        update(OutboxRow)
        .where(
            col(OutboxRow.batch) == first.batch,
            col(OutboxRow.status) == PENDING,
            col(OutboxRow.attempts) == 0,
        )
        .values(events=events)
    )
    return str(first.batch) if result.rowcount else None


def _token(store: Store) -> int | None:
    """The fencing token `store`'s writes carry (a leader's `FencedStore`), else None."""
    return store.token if isinstance(store, FencedStore) else None


def due(store: Store, now: datetime, lease: timedelta, limit: int = 100) -> list[OutboxRow]:
    """Rows to send now: pending and due, or claimed longer than `lease` ago (the sender stopped).

    Through a leader's fenced store, also every row claimed under an older fencing token, at
    once: the leader that claimed it has lost the lease, so it will never mark it."""
    taken_back = [and_(col(OutboxRow.status) == SENDING, col(OutboxRow.claimed_at) <= now - lease)]
    token = _token(store)
    if token is not None:
        taken_back.append(
            and_(col(OutboxRow.status) == SENDING, col(OutboxRow.claim_token) < token)
        )
    query = (
        select(OutboxRow)
        .where(
            or_(
                and_(col(OutboxRow.status) == PENDING, col(OutboxRow.due_at) <= now),
                *taken_back,
            )
        )
        .order_by(col(OutboxRow.due_at), col(OutboxRow.id))
        .limit(limit)
    )
    with store.session() as session:
        return [_fix(r) for r in session.exec(query)]


def claim(store: Store, row: OutboxRow, now: datetime) -> OutboxRow | None:
    """Take `row` for sending (as `due` returned it); None when someone else took it first.

    The update only matches the row in the state it was read in, so of several senders sharing
    a database exactly one wins. A row taken back from a stopped sender (or from a leader that
    lost the lease) is marked `resent`. The claim carries `store`'s fencing token.
    """
    condition = (col(OutboxRow.id) == row.id) & (col(OutboxRow.status) == row.status)
    if row.status == SENDING:
        condition = (
            condition
            & (col(OutboxRow.claimed_at) == row.claimed_at)
            & col(OutboxRow.claim_token).is_not_distinct_from(row.claim_token)
        )
    with store.session() as session:
        result = session.exec(
            update(OutboxRow)
            .where(condition)
            .values(
                status=SENDING,
                claimed_at=now,
                claim_token=_token(store),
                attempts=OutboxRow.attempts + 1,
                resent=row.status == SENDING,
            )
        )
        if not result.rowcount:
            return None
        claimed = session.get(OutboxRow, row.id)
        assert claimed is not None
        session.refresh(claimed)
        return _fix(claimed)


def finish(
    store: Store,
    row_id: int,
    now: datetime,
    *,
    title: str,
    body: str,
    error: str | None,
    retry_at: datetime | None,
) -> bool:
    """Record a send attempt: delivered (no error), pending again until `retry_at`, or failed.

    Only while the row's claim carries `store`'s fencing token: False (nothing recorded) when a
    newer leader has taken the claim over, so its own attempt is the one that counts."""
    values: dict[str, Any] = {
        "last_attempt_at": now,
        "title": title,
        "body": body,
        "last_error": error,
    }
    if error is None:
        values.update(status=DELIVERED, delivered_at=now)
    elif retry_at is not None:
        values.update(status=PENDING, due_at=retry_at)
    else:
        values.update(status=FAILED)
    ours = col(OutboxRow.claim_token).is_not_distinct_from(_token(store))
    with store.session() as session:
        result = session.exec(
            update(OutboxRow).where(col(OutboxRow.id) == row_id, ours).values(**values)
        )
        return bool(result.rowcount)


def recent(store: Store, limit: int = 10) -> list[OutboxRow]:
    """The newest `limit` outbox rows, newest first."""
    query = select(OutboxRow).order_by(col(OutboxRow.id).desc()).limit(limit)
    with store.session() as session:
        return [_fix(r) for r in session.exec(query)]


def all_rows(store: Store) -> list[OutboxRow]:
    """Every outbox row, oldest first."""
    with store.session() as session:
        return [_fix(r) for r in session.exec(select(OutboxRow).order_by(col(OutboxRow.id)))]


def counts(store: Store) -> dict[str, int]:
    """How many outbox rows are in each status."""
    query = select(OutboxRow.status, func.count()).group_by(col(OutboxRow.status))
    with store.session() as session:
        return {str(status): int(n) for status, n in session.exec(query)}


def undelivered(store: Store) -> dict[tuple[str, int], list[int]]:
    """Per (channel, destination), the ids of rows not yet delivered or given up, oldest first:
    the first must go out before any later one to the same place."""
    query = (
        select(OutboxRow.channel, OutboxRow.destination, OutboxRow.id)
        .where(col(OutboxRow.status).in_([PENDING, SENDING]))
        .order_by(col(OutboxRow.id))
    )
    out: dict[tuple[str, int], list[int]] = {}
    with store.session() as session:
        for channel, destination, row_id in session.exec(query):
            out.setdefault((str(channel), int(destination)), []).append(int(row_id or 0))
    return out


def prune(store: Store, cutoff: datetime) -> tuple[int, int]:
    """Delete what is older than `cutoff`: delivered and failed outbox rows (by `created_at`),
    and alert log rows but the newest of each (channel, target) pair. Pending and sending rows
    are never deleted. Returns (outbox rows, log rows) deleted."""
    newest = (
        select(func.max(AlertLogRow.id))
        .group_by(col(AlertLogRow.channel), col(AlertLogRow.target))
        .scalar_subquery()
    )
    with store.session() as session:
        sent = session.execute(
            delete(OutboxRow).where(
                col(OutboxRow.status).in_([DELIVERED, FAILED]), col(OutboxRow.created_at) < cutoff
            )
        )
        decided = session.execute(
            delete(AlertLogRow).where(
                col(AlertLogRow.recorded_at) < cutoff, col(AlertLogRow.id).not_in(newest)
            )
        )
        return int(sent.rowcount or 0), int(decided.rowcount or 0)  # type: ignore[attr-defined]
