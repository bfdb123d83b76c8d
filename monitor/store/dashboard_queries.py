"""Reads the status page needs beyond rollups and incidents: the newest probes, and how many
probes a chart's span holds (to chart them one by one when they are few)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func
from sqlalchemy import select as sa_select
from sqlmodel import col, select

from monitor.result import ProbeResult
from monitor.store.db import Store
from monitor.store.results import from_row
from monitor.store.tables import ProbeRow


def recent(
    store: Store,
    limit: int = 100,
    targets: Sequence[str] | None = None,
    regions: Sequence[str] | None = None,
) -> list[ProbeResult]:
    """The newest `limit` probes (of `targets` and from `regions`, default all), newest first."""
    query = select(ProbeRow).order_by(col(ProbeRow.ts).desc(), col(ProbeRow.id).desc()).limit(limit)
    if targets is not None:
        query = query.where(col(ProbeRow.target).in_(list(targets)))
    if regions is not None:
        query = query.where(col(ProbeRow.region).in_(list(regions)))
    with store.session() as session:
        return [from_row(row) for row in session.exec(query)]


def count_between(
    store: Store,
    since: datetime,
    until: datetime,
    targets: Sequence[str],
    limit: int,
    regions: Sequence[str] | None = None,
) -> int:
    """How many probes of `targets` (from `regions`, default all) have `since <= ts < until`,
    counting no further than `limit` (so a long span costs no more than a short one)."""
    table = ProbeRow.__table__  # type: ignore[attr-defined]
    where = [table.c.ts >= since, table.c.ts < until, table.c.target.in_(list(targets))]
    if regions is not None:
        where.append(table.c.region.in_(list(regions)))
    inner = sa_select(table.c.id).where(*where).limit(limit).subquery()
    with store.session() as session:
        return int(session.execute(sa_select(func.count()).select_from(inner)).scalar() or 0)
