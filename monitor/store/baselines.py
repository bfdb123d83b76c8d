"""Detection's seasonal baselines (`monitor.detect.seasonal`): one row per target, region, tier
and timing reason, holding the hour-of-day and hour-of-week bins as JSON.

A restart rebuilds the flat baselines by replaying the last day of stored results; the seasonal
bins need weeks, so they are kept here instead: `save_seasonal` writes the bins that changed
(at most once an hour, `monitor.pipeline.detection`), `load_seasonal` reads them back before
the replay. The bins are a summary (192 × 3 numbers a row), never the results themselves.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Column, DateTime, Text
from sqlmodel import Field, SQLModel, col, select

from monitor.store.db import Store

Key = tuple[str, str, str, str]  # (target, region, tier, reason)


class SeasonalBaselineRow(SQLModel, table=True):
    __tablename__ = "seasonal_baselines"

    target: str = Field(primary_key=True)
    region: str = Field(primary_key=True)
    tier: str = Field(primary_key=True)
    reason: str = Field(primary_key=True)
    state: str = Field(sa_column=Column(Text, nullable=False))  # Seasonal.state(), as JSON
    updated: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


def save_seasonal(
    store: Store, states: Iterable[tuple[Key, dict[str, Any]]], now: datetime | None = None
) -> int:
    """Insert or replace the rows of `states` in one transaction; returns how many."""
    now = now or datetime.now(UTC)
    rows = dict(states)
    if not rows:
        return 0
    with store.session() as session:
        targets = sorted({k[0] for k in rows})
        stored: dict[Key, SeasonalBaselineRow] = {}
        for part in range(0, len(targets), 500):
            query = select(SeasonalBaselineRow).where(
                col(SeasonalBaselineRow.target).in_(targets[part : part + 500])
            )
            for found in session.exec(query):
                stored[(found.target, found.region, found.tier, found.reason)] = found
        for key, state in rows.items():
            text = json.dumps(state, separators=(",", ":"))
            row = stored.get(key)
            if row is None:
                target, region, tier, reason = key
                session.add(
                    SeasonalBaselineRow(
                        target=target,
                        region=region,
                        tier=tier,
                        reason=reason,
                        state=text,
                        updated=now,
                    )
                )
            else:
                row.state, row.updated = text, now
                session.add(row)
    return len(rows)


def load_seasonal(store: Store) -> dict[Key, dict[str, Any]]:
    """Every stored row's bins, by (target, region, tier, reason); rows that are not JSON
    objects are left out (they are learned again)."""
    out: dict[Key, dict[str, Any]] = {}
    with store.session() as session:
        for row in session.exec(select(SeasonalBaselineRow)):
            try:
                state = json.loads(row.state)
            except ValueError:
                continue
            if isinstance(state, dict):
                out[(row.target, row.region, row.tier, row.reason)] = state
    return out
