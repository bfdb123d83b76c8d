"""The SLO burns the alerts have opened: one row per burn of a target's objective that fired a
rule (`severity` `page` or `ticket`, `monitor.slo`), from when the alerts first saw it until the
rule stopped firing (`ended_at`; None while it is open).

Written by `monitor.alerts.service.AlertService.on_burn` in the same transaction as the
messages it queues in the alert outbox, so a monitor that restarts during a burn neither pages
it again nor forgets to say it is over; read by the read model (`monitor.read.slo`) to say since
when a target has been paging. `channels` names the channels that were told (JSON list): the
"resolved" goes to them. `prune` deletes ended burns past the alert retention.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Column, DateTime, Index, Text, delete, update
from sqlmodel import Field, SQLModel, col, select

from monitor.store.db import Store
from monitor.store.outbox import Message, write_messages


class SloBurnRow(SQLModel, table=True):
    __tablename__ = "slo_burns"
    __table_args__ = (Index("ix_slo_burns_open", "ended_at", "target"),)

    id: int | None = Field(default=None, primary_key=True)
    target: str
    objective: str  # the objective's kind: availability, ttft_p95
    severity: str  # page | ticket
    label: str = ""  # the objective as people read it, when the burn began
    started_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    ended_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    channels: str = Field(default="[]", sa_column=Column(Text, nullable=False))
    details: str = Field(default="{}", sa_column=Column(Text, nullable=False))

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.target, self.objective, self.severity)

    def told(self) -> list[str]:
        loaded: list[str] = json.loads(self.channels)
        return loaded

    def detail(self) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads(self.details)
        return loaded


def _aware(row: SloBurnRow) -> SloBurnRow:
    for name in ("started_at", "ended_at"):
        value = getattr(row, name)
        if value is not None and value.tzinfo is None:
            setattr(row, name, value.replace(tzinfo=UTC))
    return row


def open_burns(
    store: Store, targets: Sequence[str] | None = None
) -> dict[tuple[str, str, str], SloBurnRow]:
    """The burns still open, by (target, objective kind, severity) (of `targets`, if given)."""
    query = select(SloBurnRow).where(col(SloBurnRow.ended_at).is_(None))
    if targets is not None:
        query = query.where(col(SloBurnRow.target).in_(list(targets)))
    with store.session() as session:
        rows = [_aware(r) for r in session.exec(query.order_by(col(SloBurnRow.id)))]
    return {r.key: r for r in rows}


def all_burns(store: Store) -> list[SloBurnRow]:
    """Every burn, oldest first."""
    with store.session() as session:
        return [_aware(r) for r in session.exec(select(SloBurnRow).order_by(col(SloBurnRow.id)))]


def commit(
    store: Store,
    opened: Sequence[SloBurnRow],
    ended: Sequence[int],
    messages: Sequence[Message],
    now: datetime,
) -> None:
    """Open `opened`, end the burns whose ids are `ended` at `now`, and queue `messages` in the
    alert outbox, in one transaction."""
    with store.session() as session:
        session.add_all(list(opened))
        if ended:
            session.exec(
                update(SloBurnRow)
                .where(col(SloBurnRow.id).in_(list(ended)), col(SloBurnRow.ended_at).is_(None))
                .values(ended_at=now)
            )
        write_messages(session, [], messages, now)


def prune(store: Store, cutoff: datetime) -> int:
    """Delete burns that ended before `cutoff` (open ones are kept); returns how many."""
    with store.session() as session:
        result = session.execute(
            delete(SloBurnRow).where(
                col(SloBurnRow.ended_at).is_not(None), col(SloBurnRow.ended_at) < cutoff
            )
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]
