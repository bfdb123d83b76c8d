"""Detection's tables and their query functions: status transitions (healthchecks' flips),
incidents, and every target's current status.

Detection's outcome is written with `save_detection` (transitions, incidents and statuses in one
transaction) and read with `stored_statuses`, `open_incidents`, `incidents_between`,
`transitions_between`, `incident` and `latest_transitions`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Index, or_
from sqlmodel import Field, Session, SQLModel, col, select

from monitor.detect.types import IncidentRecord, Status, TargetStatus, Transition
from monitor.store.db import Store


class TransitionRow(SQLModel, table=True):
    """One change of a target's status."""

    __tablename__ = "transitions"
    __table_args__ = (
        Index("ix_transitions_ts", "ts"),
        Index("ix_transitions_target_ts", "target", "ts"),
    )

    id: int | None = Field(default=None, primary_key=True)
    ts: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    target: str
    old: str
    new: str
    reasons: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    details: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class IncidentRow(SQLModel, table=True):
    """A stretch of degraded/down on one target; `end` is NULL while open."""

    __tablename__ = "incidents"
    __table_args__ = (
        Index("ix_incidents_target_start", "target", "start"),
        Index("ix_incidents_end", "end"),
    )

    id: int | None = Field(default=None, primary_key=True)
    target: str
    start: datetime = Field(sa_column=Column("start", DateTime(timezone=True), nullable=False))
    end: datetime | None = Field(
        default=None, sa_column=Column("end", DateTime(timezone=True), nullable=True)
    )
    worst: str
    reasons: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    peak: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class TargetStatusRow(SQLModel, table=True):
    """Each target's status now (one row a target, replaced on every change of figures)."""

    __tablename__ = "target_status"

    target: str = Field(primary_key=True)
    status: str
    since: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    reasons: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    details: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    updated: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


def _utc(ts: datetime) -> datetime:
    return ts if ts.tzinfo else ts.replace(tzinfo=UTC)


def _transition(row: TransitionRow) -> Transition:
    return Transition(
        _utc(row.ts),
        row.target,
        Status(row.old),
        Status(row.new),
        list(row.reasons),
        dict(row.details),
    )


def _incident(row: IncidentRow) -> IncidentRecord:
    return IncidentRecord(
        target=row.target,
        start=_utc(row.start),
        end=_utc(row.end) if row.end else None,
        worst=Status(row.worst),
        reasons=list(row.reasons),
        peak=dict(row.peak),
        id=row.id,
    )


def _status(row: TargetStatusRow) -> TargetStatus:
    return TargetStatus(
        row.target, Status(row.status), _utc(row.since), list(row.reasons), dict(row.details)
    )


# --- writing (monitor.pipeline.detection) ---------------------------------------------------------


def save_detection(
    store: Store,
    transitions: Iterable[Transition] = (),
    incidents: Iterable[IncidentRecord] = (),
    statuses: Iterable[TargetStatus] = (),
    now: datetime | None = None,
) -> None:
    """Store transitions, insert or update incidents (setting `id` on new ones) and replace the
    targets' current statuses, all in one transaction."""
    now = now or datetime.now(UTC)
    with store.session() as session:
        _add_transitions(session, transitions)
        _save_incidents(session, incidents)
        statuses = list(statuses)
        # One read for every status row of the batch (one `get` per target was most of
        # detection's time at 2,000 targets: bench/load.py).
        names = [s.target for s in statuses]
        stored = {
            row.target: row
            for part in range(0, len(names), 500)
            for row in session.exec(
                select(TargetStatusRow).where(
                    col(TargetStatusRow.target).in_(names[part : part + 500])
                )
            )
        }
        for status in statuses:
            row = stored.get(status.target)
            if row is None:
                row = TargetStatusRow(
                    target=status.target,
                    status=status.status.value,
                    since=status.since,
                    updated=now,
                )
            row.status, row.since, row.updated = status.status.value, status.since, now
            row.reasons, row.details = list(status.reasons), dict(status.details)
            session.add(row)


def save_transitions(store: Store, transitions: Iterable[Transition]) -> int:
    """Store transitions; returns how many."""
    items = list(transitions)
    with store.session() as session:
        _add_transitions(session, items)
    return len(items)


def save_incidents(store: Store, incidents: Iterable[IncidentRecord]) -> None:
    """Insert new incidents (setting their `id`) and update stored ones."""
    with store.session() as session:
        _save_incidents(session, incidents)


def _add_transitions(session: Session, transitions: Iterable[Transition]) -> None:
    session.add_all(
        TransitionRow(
            ts=t.ts,
            target=t.target,
            old=t.old.value,
            new=t.new.value,
            reasons=list(t.reasons),
            details=dict(t.details),
        )
        for t in transitions
    )


def _save_incidents(session: Session, incidents: Iterable[IncidentRecord]) -> None:
    new: list[tuple[IncidentRecord, IncidentRow]] = []
    for incident in incidents:
        row = session.get(IncidentRow, incident.id) if incident.id is not None else None
        if row is None:
            row = IncidentRow(target=incident.target, start=incident.start, worst="")
            new.append((incident, row))
        row.end, row.worst = incident.end, incident.worst.value
        row.reasons, row.peak = list(incident.reasons), dict(incident.peak)
        session.add(row)
    session.flush()
    for incident, row in new:
        incident.id = row.id


# --- reading (everyone) ------------------------------------------------------------------------


def stored_statuses(store: Store) -> dict[str, TargetStatus]:
    """Every target's stored current status, by target name."""
    with store.session() as session:
        rows = session.exec(select(TargetStatusRow).order_by(col(TargetStatusRow.target)))
        return {row.target: _status(row) for row in rows}


def open_incidents(store: Store, targets: Sequence[str] | None = None) -> list[IncidentRecord]:
    """Incidents not yet ended, oldest first."""
    query = select(IncidentRow).where(col(IncidentRow.end).is_(None))
    if targets:
        query = query.where(col(IncidentRow.target).in_(list(targets)))
    with store.session() as session:
        rows = session.exec(query.order_by(col(IncidentRow.start), col(IncidentRow.id)))
        return [_incident(r) for r in rows]


def incidents_between(
    store: Store,
    since: datetime | None = None,
    until: datetime | None = None,
    targets: Sequence[str] | None = None,
) -> list[IncidentRecord]:
    """Incidents overlapping [since, until): started before `until` and not ended before
    `since` (open ones included), oldest first."""
    query = select(IncidentRow)
    if until is not None:
        query = query.where(col(IncidentRow.start) < until)
    if since is not None:
        query = query.where(or_(col(IncidentRow.end).is_(None), col(IncidentRow.end) >= since))
    if targets:
        query = query.where(col(IncidentRow.target).in_(list(targets)))
    with store.session() as session:
        rows = session.exec(query.order_by(col(IncidentRow.start), col(IncidentRow.id)))
        return [_incident(r) for r in rows]


def incident(store: Store, incident_id: int) -> IncidentRecord | None:
    with store.session() as session:
        row = session.get(IncidentRow, incident_id)
        return _incident(row) if row else None


def transitions_between(
    store: Store,
    since: datetime | None = None,
    until: datetime | None = None,
    targets: Sequence[str] | None = None,
) -> list[Transition]:
    """Transitions with since <= ts < until, oldest first."""
    query = select(TransitionRow)
    if since is not None:
        query = query.where(col(TransitionRow.ts) >= since)
    if until is not None:
        query = query.where(col(TransitionRow.ts) < until)
    if targets:
        query = query.where(col(TransitionRow.target).in_(list(targets)))
    with store.session() as session:
        rows = session.exec(query.order_by(col(TransitionRow.ts), col(TransitionRow.id)))
        return [_transition(r) for r in rows]


def latest_transitions(store: Store, limit: int = 50) -> list[Transition]:
    """The newest `limit` transitions, newest first."""
    query = (
        select(TransitionRow)
        .order_by(col(TransitionRow.ts).desc(), col(TransitionRow.id).desc())
        .limit(limit)
    )
    with store.session() as session:
        return [_transition(r) for r in session.exec(query)]
