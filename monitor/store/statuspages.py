"""The providers' own status pages as last polled: component statuses and posted incidents."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import Column, DateTime, Index, UniqueConstraint
from sqlmodel import Field, SQLModel, col, or_, select

from monitor.statuspages.model import OfficialComponent, OfficialIncident
from monitor.store.db import Store


def _dt() -> Column[datetime]:
    return Column(DateTime(timezone=True), nullable=True)


class OfficialComponentRow(SQLModel, table=True):
    __tablename__ = "statuspage_components"
    __table_args__ = (UniqueConstraint("page", "component_id"),)

    id: int | None = Field(default=None, primary_key=True)
    page: str
    component_id: str
    name: str
    status: str
    updated_at: datetime | None = Field(default=None, sa_column=_dt())
    polled_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class OfficialIncidentRow(SQLModel, table=True):
    __tablename__ = "statuspage_incidents"
    __table_args__ = (
        UniqueConstraint("page", "incident_id"),
        Index("ix_statuspage_incidents_created_at", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    page: str
    incident_id: str
    name: str
    status: str
    impact: str
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    started_at: datetime | None = Field(default=None, sa_column=_dt())
    resolved_at: datetime | None = Field(default=None, sa_column=_dt())
    shortlink: str | None = None
    components: str = ""  # names joined by "\n"
    first_seen: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    posted_at_is_first_seen: bool = False


def _utc(ts: datetime | None) -> datetime | None:
    return ts.replace(tzinfo=UTC) if ts is not None and ts.tzinfo is None else ts


def save_poll(
    store: Store,
    page: str,
    components: Sequence[OfficialComponent],
    incidents: Sequence[OfficialIncident],
    polled_at: datetime,
    *,
    resolve_missing: bool = False,
) -> None:
    """Upsert one poll of `page`: its components replace the stored ones (a component the page
    no longer lists is dropped); incidents are added or updated, never deleted. An incident
    whose post time the page does not give keeps the first time it was seen. With
    `resolve_missing` (a page that lists open incidents only), a stored open incident that this
    poll does not list has ended: it is marked resolved at `polled_at`."""
    with store.session() as session:
        stored = {
            r.component_id: r
            for r in session.exec(
                select(OfficialComponentRow).where(OfficialComponentRow.page == page)
            )
        }
        for c in components:
            row = stored.pop(c.component_id, None) or OfficialComponentRow(
                page=page,
                component_id=c.component_id,
                name=c.name,
                status=c.status,
                polled_at=polled_at,
            )
            row.name, row.status, row.updated_at, row.polled_at = (
                c.name,
                c.status,
                c.updated_at,
                polled_at,
            )
            session.add(row)
        for gone in stored.values():
            session.delete(gone)
        ids = [i.incident_id for i in incidents]
        known = (
            {
                r.incident_id: r
                for r in session.exec(
                    select(OfficialIncidentRow).where(
                        OfficialIncidentRow.page == page,
                        col(OfficialIncidentRow.incident_id).in_(ids),
                    )
                )
            }
            if ids
            else {}
        )
        for i in incidents:
            irow = known.get(i.incident_id) or OfficialIncidentRow(
                page=page,
                incident_id=i.incident_id,
                name=i.name,
                status=i.status,
                impact=i.impact,
                created_at=i.created_at,
                first_seen=polled_at,
            )
            irow.name, irow.status, irow.impact = i.name, i.status, i.impact
            if not (i.created_at_is_first_seen and irow.id is not None):
                irow.created_at = i.created_at
            # A page that says "resolved" without a time is read as resolved at the poll;
            # the first such poll's time stays.
            was_resolved = irow.resolved_at if irow.id is not None else None
            irow.started_at = i.started_at
            irow.resolved_at = (
                was_resolved if was_resolved and i.resolved_at == polled_at else i.resolved_at
            )
            irow.shortlink, irow.components = i.shortlink, "\n".join(i.components)
            irow.posted_at_is_first_seen = i.created_at_is_first_seen
            session.add(irow)
        if resolve_missing:
            ended = select(OfficialIncidentRow).where(
                OfficialIncidentRow.page == page,
                col(OfficialIncidentRow.resolved_at).is_(None),
                col(OfficialIncidentRow.incident_id).not_in(ids),
            )
            for gone_incident in session.exec(ended):
                gone_incident.status, gone_incident.resolved_at = "resolved", polled_at
                session.add(gone_incident)


def components(store: Store, pages: Sequence[str] | None = None) -> list[OfficialComponent]:
    """The components as last polled, by page and name."""
    query = select(OfficialComponentRow).order_by(
        col(OfficialComponentRow.page), col(OfficialComponentRow.name)
    )
    if pages is not None:
        query = query.where(col(OfficialComponentRow.page).in_(list(pages)))
    with store.session() as session:
        rows = list(session.exec(query))
    return [
        OfficialComponent(r.page, r.component_id, r.name, r.status, _utc(r.updated_at))
        for r in rows
    ]


def incidents_between(
    store: Store,
    since: datetime,
    until: datetime | None = None,
    pages: Sequence[str] | None = None,
) -> list[OfficialIncident]:
    """Posted incidents that were open at some time in `[since, until)`, oldest first."""
    query = select(OfficialIncidentRow).where(
        or_(
            col(OfficialIncidentRow.resolved_at).is_(None),
            col(OfficialIncidentRow.resolved_at) >= since,
        )
    )
    if until is not None:
        query = query.where(col(OfficialIncidentRow.created_at) < until)
    if pages is not None:
        query = query.where(col(OfficialIncidentRow.page).in_(list(pages)))
    query = query.order_by(col(OfficialIncidentRow.created_at), col(OfficialIncidentRow.id))
    with store.session() as session:
        rows = list(session.exec(query))
    return [
        OfficialIncident(
            page=r.page,
            incident_id=r.incident_id,
            name=r.name,
            status=r.status,
            impact=r.impact,
            created_at=_utc(r.created_at) or r.created_at,
            started_at=_utc(r.started_at),
            resolved_at=_utc(r.resolved_at),
            shortlink=r.shortlink,
            components=[c for c in r.components.split("\n") if c],
            created_at_is_first_seen=r.posted_at_is_first_seen,
        )
        for r in rows
    ]
