"""Retention: raw results and fine rollups are deleted once coarser rollups carry their figures.

    prune(store, now, raw=30 * DAY, minute=2 * DAY, rollup=400 * DAY)

Raw results older than `raw` go (their hour and day rollups stay): on PostgreSQL by dropping each
day's partition once the whole day is older than `raw` (`monitor.store.partitions`; a result may
outlive the retention by up to a day), elsewhere by deleting rows; minute rollups older than
`minute` go (charts over a longer range read hour rows); hour rollups older than `rollup` go, and
day rollups older than `rollup` too. Deletes run in slices of a day so no transaction holds the
database for long while the monitor keeps writing. On PostgreSQL the hourly run also creates the
next days' partitions ahead of the writer. `brownout run` calls `prune_for(config)`
periodically; nothing else ever deletes results. `prune_for` also prunes the alert outbox and
alert log past `storage.alert_retention` (`monitor.store.outbox.prune`), and the SLO burns that
ended before it (`monitor.store.slo_burns.prune`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlmodel import col

from monitor.config.schema import StorageConfig
from monitor.store import lease, outbox, partitions, slo_burns
from monitor.store.db import Store
from monitor.store.rollup_table import DAY, HOUR, MINUTE, rollups
from monitor.store.tables import ProbeRow

MINUTE_ROLLUP_KEEP = 2 * DAY  # charts up to 24 h read minute rows; longer ones hour rows


@dataclass(frozen=True, slots=True)
class Pruned:
    """How many rows each prune deleted."""

    raw: int = 0
    minute: int = 0
    hour: int = 0
    day: int = 0
    outbox: int = 0
    alert_log: int = 0
    slo_burns: int = 0


def prune(
    store: Store,
    now: datetime,
    *,
    raw: float = 30 * DAY,
    minute: float = MINUTE_ROLLUP_KEEP,
    rollup: float = 400 * DAY,
    alerts: float = 90 * DAY,
) -> Pruned:
    """Delete what is older than its retention (seconds before `now`); returns the counts."""
    raw_deleted = _prune_raw(store, now, now - timedelta(seconds=raw))
    minute_n, hour_n, day_n = (
        _prune_rollups(store, grain, now - timedelta(seconds=keep))
        for grain, keep in ((MINUTE, minute), (HOUR, rollup), (DAY, rollup))
    )
    sent, decided = outbox.prune(store, now - timedelta(seconds=alerts))
    burns = slo_burns.prune(store, now - timedelta(seconds=alerts))
    return Pruned(
        raw_deleted, minute_n, hour_n, day_n, outbox=sent, alert_log=decided, slo_burns=burns
    )


def prune_for(store: Store, storage: StorageConfig, now: datetime) -> Pruned:
    """`prune` with the config's `storage.raw_retention`, `storage.rollup_retention` and
    `storage.alert_retention`."""
    return prune(
        store,
        now,
        raw=storage.raw_retention,
        minute=min(MINUTE_ROLLUP_KEEP, storage.rollup_retention),
        rollup=storage.rollup_retention,
        alerts=storage.alert_retention,
    )


def _prune_raw(store: Store, now: datetime, cutoff: datetime) -> int:
    with store.engine.connect() as conn:
        partitioned = partitions.is_partitioned(conn)
    if partitioned:
        # Whole days go with their partition; the day the cutoff falls in stays until it ends.
        partitions.create_ahead(store.engine, now)
        # Dropping is fenced: the leader's store is a FencedStore (see `partitions`).
        return partitions.drop_before(store.engine, cutoff, fence=lambda: lease.holding(store))
    with store.session() as session:
        oldest = session.execute(select(func.min(ProbeRow.ts))).scalar()
    if oldest is None:
        return 0
    if oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=cutoff.tzinfo)
    deleted = 0
    edge = oldest
    while edge < cutoff:
        edge = min(edge + timedelta(days=1), cutoff)
        with store.session() as session:
            result = session.execute(delete(ProbeRow).where(col(ProbeRow.ts) < edge))
            deleted += int(result.rowcount or 0)  # type: ignore[attr-defined]
    return deleted


def _prune_rollups(store: Store, grain: int, cutoff: datetime) -> int:
    """Rows of `grain` whose bucket ended before `cutoff`."""
    edge = int(cutoff.timestamp()) - grain
    with store.session() as session:
        result = session.execute(
            delete(rollups).where(rollups.c.grain == grain, rollups.c.bucket <= edge)
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]
