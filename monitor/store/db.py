"""Opening the database: engine, SQLite pragmas, schema creation and versioned migrations.

The schema is SQLModel's metadata (every table module registers its tables by being imported in
`_TABLE_MODULES`). `SchemaVersion` records which migrations have run; a migration is a function
of a connection appended to `MIGRATIONS`, never edited once released.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, event, inspect, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.pool import NullPool
from sqlmodel import Field, Session, SQLModel, create_engine, select

from monitor.errors import StorageError
from monitor.store import partitions
from monitor.store.rollup_migration import migrate_to_sketches

# Modules that define tables; importing them registers their tables with SQLModel.metadata.
_TABLE_MODULES = [
    "monitor.store.tables",
    "monitor.store.detection",
    "monitor.store.outbox",
    "monitor.store.rollup_table",
    "monitor.store.statuspages",
    "monitor.store.lease",
    "monitor.store.slo_burns",
    "monitor.store.baselines",
]


class SchemaVersion(SQLModel, table=True):
    __tablename__ = "schema_version"
    id: int = Field(default=1, primary_key=True)
    version: int


Migration = Callable[[Connection], None]


# Index i holds the migration from version i+1 to i+2; version 1 is the first create_all.
def _rollup_sketches(conn: Connection) -> None:
    """2: the rollups' fixed histogram columns become mergeable sketches (TTFT, latency and
    tokens/s; `monitor.store.rollup_migration.migrate_to_sketches`)."""
    migrate_to_sketches(conn)


def add_column(conn: Connection, table: str, column: str, ddl: str) -> None:
    """`ALTER TABLE table ADD COLUMN column ddl`, unless the column is there already: a
    migration that adds a column can then run over a database that has it (one created by a
    newer `create_all`, or a test that moved the version back)."""
    if column not in {c["name"] for c in inspect(conn).get_columns(table)}:
        conn.execute(text(f"ALTER TABLE {table} ADD COLUMN {column} {ddl}"))


def _add_retry_reason(conn: Connection) -> None:
    """3: `probe_results.retry_reason` (a probe sent again after a stale kept-alive connection)."""
    add_column(conn, "probe_results", "retry_reason", "VARCHAR")


def _add_posted_at_is_first_seen(conn: Connection) -> None:
    """4: `statuspage_incidents.posted_at_is_first_seen` (a page that gives no post time, read at
    the first poll that listed the incident)."""
    add_column(
        conn, "statuspage_incidents", "posted_at_is_first_seen", "BOOLEAN NOT NULL DEFAULT false"
    )


def _add_top_logprobs(conn: Connection) -> None:
    """5: `probe_results.top_logprobs` (JSON: the first output token's top log-probabilities,
    at most 20 pairs, for the model-identity drift test)."""
    add_column(conn, "probe_results", "top_logprobs", "JSON")


def _add_claim_token(conn: Connection) -> None:
    """6: `alert_outbox.claim_token`, the fencing token of the leader that claimed a message."""
    add_column(conn, "alert_outbox", "claim_token", "INTEGER")


def _add_stream_clock(conn: Connection) -> None:
    """7: `probe_results.first_chunk_ms`, `last_chunk_ms`, `chunks` and `duration_ms` (the
    stream's own clock, which OpenTelemetry's GenAI metrics time)."""
    for column, ddl in (
        ("first_chunk_ms", "FLOAT"),
        ("last_chunk_ms", "FLOAT"),
        ("chunks", "INTEGER"),
        ("duration_ms", "FLOAT"),
    ):
        add_column(conn, "probe_results", column, ddl)


def _add_tool_check(conn: Connection) -> None:
    """8: `probe_results.tool_check` (how a tool canary's call went: `ok` or the failure)."""
    add_column(conn, "probe_results", "tool_check", "VARCHAR")


MIGRATIONS: list[Migration] = [
    _rollup_sketches,
    _add_retry_reason,
    _add_posted_at_is_first_seen,
    _add_top_logprobs,
    _add_claim_token,
    _add_stream_clock,
    _add_tool_check,
]
SCHEMA_VERSION = 1 + len(MIGRATIONS)


class Store:
    """A database: the engine and sessions. Query and write functions live beside this module
    (`monitor.store.results`, …) and take a Store, so every reader goes through them."""

    def __init__(self, engine: Engine, *, readonly: bool = False) -> None:
        self.engine = engine
        self.readonly = readonly

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session that commits on success and rolls back on error."""
        with Session(self.engine, expire_on_commit=False) as session:
            try:
                yield session
                if not self.readonly:
                    session.commit()
            except SQLAlchemyError as exc:
                session.rollback()
                raise StorageError(f"database error: {_short(exc)}") from exc
            except BaseException:
                session.rollback()
                raise

    def close(self) -> None:
        self.engine.dispose()


def open_store(url: str, *, readonly: bool = False, create: bool = True) -> Store:
    """Open the database at `url`, creating and migrating its schema unless `readonly`.

    Raises StorageError with a one-sentence reason when it cannot be opened.
    """
    for module in _TABLE_MODULES:
        importlib.import_module(module)
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise StorageError(f"{url!r} is not a database URL") from exc
    kwargs: dict[str, Any] = {}
    if parsed.get_backend_name() == "sqlite":
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
        database = parsed.database or ""
        if readonly and database and database != ":memory:":
            url = f"sqlite:///file:{database}?mode=ro&uri=true"
        if database in ("", ":memory:"):
            from sqlalchemy.pool import StaticPool

            kwargs["poolclass"] = StaticPool
    elif parsed.get_backend_name() == "postgresql":
        kwargs["pool_pre_ping"] = True
    else:
        kwargs["poolclass"] = NullPool
    try:
        engine = create_engine(url, **kwargs)
    except (ArgumentError, ImportError) as exc:
        raise StorageError(
            f"cannot use database {parsed.render_as_string()}: {_short(exc)}"
        ) from exc
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas(readonly))
    store = Store(engine, readonly=readonly)
    try:
        if create and not readonly:
            _migrate(engine)
        else:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        # A failed migration (a schema another build left behind) is as much "cannot open" as
        # an unreachable server; either way the pool's connections are closed here, not by GC.
        engine.dispose()
        raise StorageError(
            f"cannot open database {parsed.render_as_string()}: {_short(exc)}"
        ) from exc
    except BaseException:
        engine.dispose()
        raise
    return store


def _sqlite_pragmas(readonly: bool) -> Callable[[Any, Any], None]:
    def apply(dbapi_conn: Any, _record: Any) -> None:
        cursor = dbapi_conn.cursor()
        if not readonly:
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA temp_store=MEMORY")
        cursor.close()

    return apply


# Held while one process creates or migrates the schema on PostgreSQL (any constant will do).
SCHEMA_LOCK = 0x62726F776E  # "brown"


def _migrate(engine: Engine) -> None:
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            # Monitors in several regions starting at once on a fresh database would otherwise
            # race on CREATE TABLE; the lock ends with this transaction.
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SCHEMA_LOCK})
            if conn.execute(text("SELECT to_regclass('probe_results')")).scalar() is None:
                # A new database: raw results partitioned by day (`monitor.store.partitions`);
                # create_all below then skips the table.
                partitions.create_table(conn, datetime.now(UTC))
        SQLModel.metadata.create_all(conn)
        with Session(conn) as session:
            row = session.exec(select(SchemaVersion)).first()
            current = row.version if row else SCHEMA_VERSION
            for migration in MIGRATIONS[current - 1 :]:
                migration(conn)
            if row is None:
                session.add(SchemaVersion(version=SCHEMA_VERSION))
            else:
                row.version = SCHEMA_VERSION
                session.add(row)
            session.flush()


def schema_version(store: Store) -> int:
    with store.session() as session:
        row = session.exec(select(SchemaVersion)).first()
        return row.version if row else 0


def _short(exc: BaseException) -> str:
    text_ = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return text_[0] if text_ else type(exc).__name__
