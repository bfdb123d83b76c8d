"""Copying a whole history from one database to another (`brownout migrate`): SQLite to
PostgreSQL, typically.

    for table, copied, total in copy_all(source, target):   # progress, table by table
        ...
    counts(source) == counts(target)

Every table of the schema is copied (results, rollups, transitions, incidents, current statuses,
the alert log and outbox, the providers' status pages) except the schema version (the target
has its own, created by `open_store`) and the leader lease (a lease belongs to the database its
monitors use). Rows go in primary-key order, in batches, each batch its own transaction, as
`INSERT … ON CONFLICT DO NOTHING`; a table with one integer key resumes after the highest key
the target already has. So an interrupted migration is run again and carries on where it
stopped, and a finished one run again copies nothing. Timestamps read back naive from SQLite are
UTC and are written as such. Into PostgreSQL, results go into the day partitions of a new
database (`monitor.store.partitions`), each created before its first batch. Afterwards PostgreSQL's id sequences are moved past the copied ids,
so new rows do not collide with them.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Table, func, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import SQLModel

from monitor.store import partitions
from monitor.store.db import Store

SKIPPED = {"schema_version", "leader_lease"}
BATCH = 5000


def tables() -> list[Table]:
    """The tables a migration copies, parents before children."""
    return [t for t in SQLModel.metadata.sorted_tables if t.name not in SKIPPED]


def counts(store: Store) -> dict[str, int]:
    """Rows per copied table."""
    out = {}
    with store.engine.connect() as conn:
        for table in tables():
            out[table.name] = int(
                conn.execute(select(func.count()).select_from(table)).scalar_one()
            )
    return out


def copy_all(source: Store, target: Store, batch: int = BATCH) -> Iterator[tuple[str, int, int]]:
    """Copy every table; yields (table, rows copied so far, rows in the source) after each batch
    (and once per table before the first)."""
    for table in tables():
        yield from _copy(source, target, table, batch)
    if target.dialect == "postgresql":
        _move_sequences(target)


def _copy(source: Store, target: Store, table: Table, batch: int) -> Iterator[tuple[str, int, int]]:
    keys = list(table.primary_key.columns)
    single_int = len(keys) == 1 and keys[0].type.python_type is int
    stamps = [c.name for c in table.columns if isinstance(c.type, DateTime)]
    with source.engine.connect() as read:
        total = int(read.execute(select(func.count()).select_from(table)).scalar_one())
        after = None
        done = 0
        if single_int:
            with target.engine.connect() as conn:
                after = conn.execute(select(func.max(keys[0]))).scalar()
            if after is not None:
                done = int(
                    read.execute(
                        select(func.count()).select_from(table).where(keys[0] <= after)
                    ).scalar_one()
                )
        yield table.name, done, total
        query = select(table).order_by(*keys)
        if after is not None:
            query = query.where(keys[0] > after)
        result = read.execution_options(yield_per=batch).execute(query)
        for part in result.partitions(batch):
            rows = [_fix(dict(row._mapping), stamps) for row in part]
            with target.engine.begin() as write:
                if table.name == partitions.TABLE:  # each day's partition before its rows
                    partitions.ensure(write, partitions.days_of(r["ts"] for r in rows))
                write.execute(_insert(target, table), rows)
            done += len(rows)
            yield table.name, done, total


def _insert(target: Store, table: Table) -> Any:
    if target.dialect == "postgresql":
        return pg_insert(table).on_conflict_do_nothing()
    return sqlite_insert(table).on_conflict_do_nothing()


def _fix(row: dict[str, Any], stamps: list[str]) -> dict[str, Any]:
    for name in stamps:
        value = row.get(name)
        if isinstance(value, datetime) and value.tzinfo is None:
            row[name] = value.replace(tzinfo=UTC)
    return row


def _move_sequences(target: Store) -> None:
    with target.engine.begin() as conn:
        for table in tables():
            keys = list(table.primary_key.columns)
            if len(keys) != 1 or keys[0].type.python_type is not int or not keys[0].autoincrement:
                continue
            sequence = conn.execute(
                text("SELECT pg_get_serial_sequence(:t, :c)"), {"t": table.name, "c": keys[0].name}
            ).scalar()
            if sequence:
                conn.execute(
                    text(
                        f"SELECT setval('{sequence}', "
                        f"(SELECT COALESCE(MAX({keys[0].name}), 0) + 1 FROM {table.name}), false)"
                    )
                )
