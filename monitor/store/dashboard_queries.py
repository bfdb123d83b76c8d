"""Reads the status page needs beyond rollups and incidents: the newest probes."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import col, select

from monitor.result import ProbeResult
from monitor.store.db import Store
from monitor.store.results import from_row
from monitor.store.tables import ProbeRow


def recent(
    store: Store, limit: int = 100, targets: Sequence[str] | None = None
) -> list[ProbeResult]:
    """The newest `limit` probes (of `targets`, default all), newest first."""
    query = select(ProbeRow).order_by(col(ProbeRow.ts).desc(), col(ProbeRow.id).desc()).limit(limit)
    if targets is not None:
        query = query.where(col(ProbeRow.target).in_(list(targets)))
    with store.session() as session:
        return [from_row(row) for row in session.exec(query)]
