"""Raw results partitioned by day on PostgreSQL: creating partitions ahead, dropping old ones.

On PostgreSQL a new database gets `probe_results` as a declaratively partitioned table,
`PARTITION BY RANGE (ts)`, one partition per UTC day (`probe_results_p20261202` holds
`[2026-12-02, 2026-12-03)`); the primary key is `(id, ts)`, as PostgreSQL requires the partition
key in it, and the indexes of `monitor.store.tables.ProbeRow` are created on the parent, so every
partition has them. SQLite keeps one plain table.

Why a day, not a week: retention drops whole partitions, so a partition's width is how long a
result may outlive `storage.raw_retention` (up to a day, not up to a week); at the 2,000-target
load (docs/benchmarks.md: 5.8 M results a day) a day is a few GB, the unit the disk is given back
in, and the queries that read recent results (detection's restore, the status, the transfer
switch, `results.contains`) touch one or two partitions. 30 days of retention is 31 partitions,
400 days 401: both well within what PostgreSQL's planner prunes cheaply.

No insert fails for want of a partition:

- `ensure(connection, days)` runs in the writer's transaction (`results.record`, `migrate`)
  before each insert: days a connection has already seen cost nothing; a missing day is created
  under an advisory lock (monitors in several regions may ask at once) as a plain table then
  `ATTACH`ed, which takes only a SHARE UPDATE EXCLUSIVE lock on the parent, so readers and other
  writers are not blocked.
- `create_ahead(store, now)` creates today's and the next `AHEAD_DAYS` days' partitions; the
  schema's creation and the leader's hourly retention call it, so the writer normally finds its
  day already there.

There is no DEFAULT partition: rows put there would stop the day's own partition from ever being
attached, and `ensure` already covers any timestamp, however far in the past or future.

`drop_before(store, cutoff, fence)` detaches (`DETACH PARTITION … CONCURRENTLY`: no lock that
stops reads or writes) and drops every partition that ends at or before `cutoff`: retention on
PostgreSQL returns whole days to the disk instead of deleting rows one by one.

Who may do which: creating a partition is every writer's business (a follower's batch needs its
day's partition as much as the leader's) and is safe to race: the advisory lock and the second
look at `pg_class` under it make concurrent `ensure`s of one day create it once, and creating a
partition removes nothing. Dropping destroys results, so only the leader does it (retention runs
there) and only while it still leads: `fence` is entered around each partition's detach and drop
(retention passes `lease.holding` of its fenced store), which checks the fencing token and keeps
the lease from changing hands until the partition is gone. A leader paused past its lease that
wakes up (perhaps with another config's shorter `raw_retention`) drops nothing: `Fenced`.

A PostgreSQL database created before partitioning keeps its plain table and keeps working: retention
deletes its rows as before (`is_partitioned` tells them apart). Converting it in place would
rewrite every row inside the start-up migration, under the schema lock every monitor waits on;
`brownout migrate --to` into a fresh PostgreSQL database creates the partitioned layout instead.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager, nullcontext
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, text
from sqlalchemy.schema import CreateColumn

from monitor.store.tables import ProbeRow

TABLE = "probe_results"
PREFIX = f"{TABLE}_p"
AHEAD_DAYS = 2
# Held while a partition is created (any constant will do; the schema's own lock is "brown").
PARTITION_LOCK = 0x7061727469  # "parti"
_SEEN = "brownout_partitions"  # the days a connection has found, in its info dict


def name_of(day: date) -> str:
    return f"{PREFIX}{day:%Y%m%d}"


def day_of(name: str) -> date | None:
    """The day a partition's name holds, or None for a table that is not one of ours."""
    if not name.startswith(PREFIX):
        return None
    try:
        return datetime.strptime(name[len(PREFIX) :], "%Y%m%d").date()
    except ValueError:
        return None


def _bound(day: date) -> str:
    return f"{day.isoformat()} 00:00:00+00"


def days_of(stamps: Iterable[datetime]) -> set[date]:
    """The UTC days of `stamps` (naive ones are UTC)."""
    out = set()
    for ts in stamps:
        aware = ts if ts.tzinfo else ts.replace(tzinfo=UTC)
        out.add(aware.astimezone(UTC).date())
    return out


def is_partitioned(conn: Connection) -> bool:
    """Whether `probe_results` here is a partitioned table (PostgreSQL, created partitioned)."""
    if conn.dialect.name != "postgresql":
        return False
    info = conn.info
    if "brownout_partitioned" not in info:
        info["brownout_partitioned"] = bool(
            conn.execute(
                text("SELECT 1 FROM pg_partitioned_table WHERE partrelid = to_regclass(:t)"),
                {"t": TABLE},
            ).first()
        )
    return bool(info["brownout_partitioned"])


def create_table(conn: Connection, now: datetime) -> None:
    """Create `probe_results` partitioned by day, with its indexes and the partitions from
    `now`'s day to `AHEAD_DAYS` ahead. Called by the schema's creation on a new PostgreSQL
    database, before the other tables are created."""
    table: Any = ProbeRow.__table__  # type: ignore[attr-defined]
    columns = []
    for column in table.columns:
        if column.name == "id":
            columns.append("id BIGSERIAL NOT NULL")
        else:
            columns.append(str(CreateColumn(column).compile(dialect=conn.dialect)))
    conn.execute(
        text(
            f"CREATE TABLE {TABLE} ({', '.join(columns)}, PRIMARY KEY (id, ts)) "
            "PARTITION BY RANGE (ts)"
        )
    )
    for index in table.indexes:
        index.create(conn)
    conn.info.pop("brownout_partitioned", None)
    ensure(conn, _ahead(now))


def _ahead(now: datetime) -> set[date]:
    today = now.astimezone(UTC).date()
    return {today + timedelta(days=i) for i in range(AHEAD_DAYS + 1)}


def ensure(conn: Connection, days: Iterable[date]) -> int:
    """Make sure a partition exists for each of `days`, within `conn`'s transaction; returns how
    many were created. Does nothing on SQLite or on an unpartitioned PostgreSQL table."""
    if not is_partitioned(conn):
        return 0
    seen: set[date] = conn.info.setdefault(_SEEN, set())
    wanted = sorted(set(days) - seen)
    if not wanted:
        return 0
    created = 0
    locked = False
    recent = datetime.now(UTC).date() - timedelta(days=1)
    for day in wanted:
        name = name_of(day)
        if _exists(conn, name):
            # Only days found committed are remembered (a rollback would undo our own), and only
            # recent ones: retention may drop an old day's partition under another connection.
            if day >= recent:
                seen.add(day)
            continue
        if not locked:
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": PARTITION_LOCK})
            locked = True
            if _exists(conn, name):  # another monitor made it while we waited
                continue
        conn.execute(text(f"CREATE TABLE {name} (LIKE {TABLE} INCLUDING DEFAULTS)"))
        conn.execute(
            text(
                f"ALTER TABLE {TABLE} ATTACH PARTITION {name} FOR VALUES FROM "
                f"('{_bound(day)}') TO ('{_bound(day + timedelta(days=1))}')"
            )
        )
        created += 1
    return created


def _exists(conn: Connection, name: str) -> bool:
    # Read from pg_class itself, not `to_regclass`: the name cache of a session that waited on
    # the advisory lock may not have seen another session's new table yet.
    query = text(
        "SELECT 1 FROM pg_class WHERE relname = :n AND relnamespace = current_schema()::regnamespace"
    )
    return conn.execute(query, {"n": name}).first() is not None


def create_ahead(engine: Engine, now: datetime) -> int:
    """Create today's partition and the next `AHEAD_DAYS` days'; returns how many."""
    with engine.begin() as conn:
        return ensure(conn, _ahead(now))


def partitions(conn: Connection) -> dict[date, str]:
    """Our partitions of `probe_results`, by day."""
    rows = conn.execute(
        text(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = to_regclass(:t)"
        ),
        {"t": TABLE},
    )
    out = {}
    for (name,) in rows:
        day = day_of(str(name))
        if day is not None:
            out[day] = str(name)
    return out


def drop_before(
    engine: Engine,
    cutoff: datetime,
    fence: Callable[[], AbstractContextManager[object]] = nullcontext,
) -> int:
    """Detach and drop every partition whose day ends at or before `cutoff`; returns how many
    results they held. Each partition's detach and drop run inside `fence()` (the leader's
    `lease.holding`: it raises `Fenced` when this monitor no longer leads)."""
    with engine.connect() as conn:
        if not is_partitioned(conn):
            return 0
        old = sorted(
            (day, name)
            for day, name in partitions(conn).items()
            if datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(days=1) <= cutoff
        )
        conn.rollback()
    dropped = 0
    for _day, name in old:
        with engine.connect() as conn:
            rows = int(conn.execute(text(f"SELECT count(*) FROM {name}")).scalar_one())
            conn.rollback()
        # CONCURRENTLY cannot run inside a transaction block: an autocommit connection.
        with fence(), engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            pending = conn.execute(
                text("SELECT inhdetachpending FROM pg_inherits WHERE inhrelid = to_regclass(:n)"),
                {"n": name},
            ).scalar()
            if pending:  # an earlier detach was interrupted: finish it
                conn.execute(text(f"ALTER TABLE {TABLE} DETACH PARTITION {name} FINALIZE"))
            elif pending is not None:
                conn.execute(text(f"ALTER TABLE {TABLE} DETACH PARTITION {name} CONCURRENTLY"))
            conn.execute(text(f"DROP TABLE IF EXISTS {name}"))
        dropped += rows
    return dropped


def rows_by_day(engine: Engine) -> dict[date, int]:
    """How many results each day's partition holds (empty when the table is not partitioned)."""
    with engine.connect() as conn:
        if not is_partitioned(conn):
            return {}
        out = {}
        for day, name in sorted(partitions(conn).items()):
            out[day] = int(conn.execute(text(f"SELECT count(*) FROM {name}")).scalar_one())
        conn.rollback()
        return out
