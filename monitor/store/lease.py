"""The leader lease: one row that says which monitor leads, until when, and under which token.

Any number of monitors may probe and store results; detection, incidents, alerts, scheduled
reports, retention and status-page polling run in one of them at a time, the leader. The leader
is chosen through the database itself, so it works the same on one SQLite file shared by several
processes and on PostgreSQL shared by several regions:

    token = lease.acquire(store, holder="host:pid", region="eu-west", ttl=30)  # int or None
    lease.renew(store, holder, token, ttl)      # False once someone else holds it
    lease.release(store, holder, token)         # at a clean stop: the next one takes over at once
    fenced = lease.fenced_store(store, token)   # a Store whose every write checks the token
    with lease.holding(fenced): ...             # the token checked, and kept, for a whole block

Each acquisition takes the row with one conditional UPDATE (only when the lease has expired or is
free) and bumps `token`. The token is the fence: `fenced_store` opens its own engine, and before
the first write of every transaction it runs `UPDATE leader_lease SET token = token WHERE token =
<ours>` in the same transaction. When another monitor has taken over, the token differs, no row
matches, and the transaction is rolled back with `Fenced`: a leader that was paused (a long GC,
SIGSTOP, a VM migration) and wakes up after losing the lease cannot write a transition, an
incident, an alert decision or an outbox claim. The check also locks the lease row (PostgreSQL) or
takes the write lock (SQLite) until commit, so a takeover cannot slip between the check and the
write.

Statements that cannot carry the check (DDL: retention's `DETACH PARTITION … CONCURRENTLY` must
run outside any transaction) run inside `holding(fenced)`: a transaction of its own checks the
token and keeps the lease row locked until the block ends, so no other monitor can take the lease
(its `acquire` waits on the row) while a partition is dropped, and an ex-leader's block raises
`Fenced` before doing anything.

Time is the database's: `clock_timestamp()` on PostgreSQL (monitors in several regions need not
agree on the time), the local clock on SQLite (every process is on the one machine).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Column, DateTime, event, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Field, Session, SQLModel, col, create_engine, select

from monitor.errors import StorageError
from monitor.store.db import Store, _sqlite_pragmas

LEADER = "leader"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class Fenced(StorageError):
    """A write under a token that no longer holds the lease: another monitor leads now."""


class LeaseRow(SQLModel, table=True):
    """The one row per lease name: who holds it, until when, and the fencing token."""

    __tablename__ = "leader_lease"

    name: str = Field(primary_key=True)
    holder: str = ""
    region: str = ""
    token: int = 0
    acquired_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    renewed_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    expires_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


@dataclass(frozen=True)
class LeaseInfo:
    """What the lease row says, as `brownout status`, `/healthz` and the page show it."""

    holder: str
    region: str
    token: int
    acquired_at: datetime | None
    expires_at: datetime
    live: bool  # held and not expired (by the database's clock)

    def to_dict(self) -> dict[str, Any]:
        from monitor.result import format_ts

        return {
            "holder": self.holder or None,
            "region": self.region or None,
            "token": self.token,
            "since": format_ts(self.acquired_at) if self.acquired_at else None,
            "expires": format_ts(self.expires_at),
            "live": self.live,
        }


def _utc(ts: datetime | None) -> datetime | None:
    if ts is None:
        return None
    return ts if ts.tzinfo else ts.replace(tzinfo=UTC)


def db_now(session: Session) -> datetime:
    """The database's time: PostgreSQL's `clock_timestamp()`; the local clock on SQLite."""
    if session.get_bind().dialect.name == "postgresql":
        value = session.execute(text("SELECT clock_timestamp()")).scalar_one()
        return _utc(value) or datetime.now(UTC)
    return datetime.now(UTC)


def _ensure_row(session: Session, name: str) -> None:
    values = {"name": name, "holder": "", "region": "", "token": 0, "expires_at": EPOCH}
    table = LeaseRow.__table__  # type: ignore[attr-defined]
    if session.get_bind().dialect.name == "postgresql":
        session.execute(pg_insert(table).values(**values).on_conflict_do_nothing())
    else:
        session.execute(sqlite_insert(table).values(**values).on_conflict_do_nothing())


def acquire(store: Store, holder: str, region: str, ttl: float, name: str = LEADER) -> int | None:
    """Take the lease if it is free or expired; returns the new fencing token, or None when
    another monitor holds it. One conditional UPDATE: of several monitors trying at once,
    exactly one wins."""
    with store.session() as session:
        _ensure_row(session, name)
        now = db_now(session)
        result = session.execute(
            update(LeaseRow)
            .where(col(LeaseRow.name) == name, col(LeaseRow.expires_at) <= now)
            .values(
                holder=holder,
                region=region,
                token=LeaseRow.token + 1,
                acquired_at=now,
                renewed_at=now,
                expires_at=now + timedelta(seconds=ttl),
            )
        )
        if not result.rowcount:  # type: ignore[attr-defined]
            return None
        row = session.exec(select(LeaseRow).where(LeaseRow.name == name)).one()
        session.refresh(row)
        return int(row.token)


def renew(store: Store, holder: str, token: int, ttl: float, name: str = LEADER) -> bool:
    """Extend the lease held under `token`; False when it is no longer ours (taken over, or
    expired: an expired lease is not renewed, it is acquired again under a new token)."""
    with store.session() as session:
        now = db_now(session)
        result = session.execute(
            update(LeaseRow)
            .where(
                col(LeaseRow.name) == name,
                col(LeaseRow.holder) == holder,
                col(LeaseRow.token) == token,
                col(LeaseRow.expires_at) > now,
            )
            .values(renewed_at=now, expires_at=now + timedelta(seconds=ttl))
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]


def release(store: Store, holder: str, token: int, name: str = LEADER) -> bool:
    """Give the lease up (a clean stop), so another monitor takes over without waiting for it
    to expire. The token is kept: the next holder gets token + 1."""
    with store.session() as session:
        result = session.execute(
            update(LeaseRow)
            .where(
                col(LeaseRow.name) == name,
                col(LeaseRow.holder) == holder,
                col(LeaseRow.token) == token,
            )
            .values(holder="", region="", expires_at=EPOCH)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]


def current(store: Store, name: str = LEADER) -> LeaseInfo | None:
    """The lease as stored, or None when no monitor ever led on this database."""
    with store.session() as session:
        row = session.get(LeaseRow, name)
        if row is None:
            return None
        now = db_now(session)
        expires = _utc(row.expires_at) or EPOCH
        return LeaseInfo(
            holder=row.holder,
            region=row.region,
            token=row.token,
            acquired_at=_utc(row.acquired_at),
            expires_at=expires,
            live=bool(row.holder) and expires > now,
        )


# --- fencing -------------------------------------------------------------------------------------

_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")


class FencedStore(Store):
    """A Store whose writes carry the fencing token: see the module's docstring."""

    def __init__(
        self, engine: Engine, token: int, name: str, on_fenced: Callable[[], None] | None
    ) -> None:
        super().__init__(engine)
        self.token = token
        self.lease_name = name
        self.on_fenced = on_fenced


def fenced_store(
    store: Store,
    token: int,
    *,
    name: str = LEADER,
    on_fenced: Callable[[], None] | None = None,
) -> FencedStore:
    """A Store on the same database (its own engine) whose every write transaction first checks,
    in that transaction, that the lease still carries `token`; `on_fenced` is called (then
    `Fenced` raised) when it does not."""
    source = store.engine
    kwargs: dict[str, Any] = {}
    if source.dialect.name == "sqlite":
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
    else:
        kwargs["pool_pre_ping"] = True
    engine = create_engine(source.url, **kwargs)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas(readonly=False))
    fenced = FencedStore(engine, token, name, on_fenced)
    marker = "?" if engine.dialect.paramstyle == "qmark" else "%s"
    check = f"UPDATE leader_lease SET token = token WHERE name = {marker} AND token = {marker}"

    def before_cursor_execute(
        conn: Connection,
        cursor: Any,
        statement: str,
        parameters: Any,
        context: Any,
        executemany: bool,
    ) -> None:
        if conn.info.get("fenced") or not statement.lstrip().upper().startswith(_WRITES):
            return
        cursor.execute(check, (name, fenced.token))
        if cursor.rowcount != 1:
            if fenced.on_fenced is not None:
                fenced.on_fenced()
            raise Fenced(f"this monitor no longer leads (token {fenced.token} was taken over)")
        conn.info["fenced"] = True

    def end(conn: Connection) -> None:
        conn.info["fenced"] = False

    event.listen(engine, "before_cursor_execute", before_cursor_execute)
    for name_ in ("begin", "commit", "rollback"):
        event.listen(engine, name_, end)
    return fenced


@contextmanager
def holding(store: Store) -> Iterator[None]:
    """Run a block under the lease of a `FencedStore`: its token is checked first (`Fenced`, and
    `on_fenced` called, when another monitor holds the lease) and the lease row stays locked until
    the block ends, so the lease cannot change hands meanwhile. For what the per-transaction check
    cannot cover: statements on other connections, or DDL. A plain Store (one monitor, no lease)
    runs the block as it is.

    The leader's own renewal waits on the row too, so the block should take seconds, not the
    lease's ttl."""
    if not isinstance(store, FencedStore):
        yield
        return
    with store.engine.connect() as conn, conn.begin():
        # An UPDATE: the engine's fence runs its check (and locks the row) before it.
        conn.execute(
            update(LeaseRow)
            .where(col(LeaseRow.name) == store.lease_name, col(LeaseRow.token) == store.token)
            .values(token=LeaseRow.token)
        )
        yield
