"""Writing and reading probe results. `record` is the only write path for results."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime

from sqlalchemy import func, insert, text
from sqlalchemy import select as sa_select
from sqlmodel import col, select

from monitor.result import ProbeResult
from monitor.store import rollup_write
from monitor.store.db import Store
from monitor.store.tables import ProbeRow

_FIELDS = [name for name in ProbeRow.model_fields if name != "id"]


def to_row(result: ProbeResult) -> ProbeRow:
    values = {name: getattr(result, name) for name in _FIELDS}
    values["outcome"] = result.outcome.value
    return ProbeRow(**values)


def from_row(row: ProbeRow) -> ProbeResult:
    values = {name: getattr(row, name) for name in _FIELDS}
    ts = values["ts"]
    if ts.tzinfo is None:
        values["ts"] = ts.replace(tzinfo=UTC)
    return ProbeResult(**values)


def record(store: Store, results: Iterable[ProbeResult]) -> int:
    """Store `results` in one transaction, with their rollups; returns how many were stored."""
    results = list(results)
    if not results:
        return 0
    # A Core insert of plain dicts: ORM objects cost several times the database's own work.
    rows = [_values(r) for r in results]
    with store.session() as session:
        session.execute(insert(ProbeRow.__table__), rows)  # type: ignore[attr-defined]
        rollup_write.add(session, results)
    return len(rows)


def contains(store: Store, result: ProbeResult) -> bool:
    """Whether `result` (same target, canary, region and timestamp) is already stored: how the
    pipeline tells a batch whose commit went through from one that must be written again."""
    table = ProbeRow.__table__  # type: ignore[attr-defined]
    query = (
        sa_select(table.c.id)
        .where(table.c.target == result.target)
        .where(table.c.ts == result.ts)
        .where(table.c.canary == result.canary)
        .where(table.c.region == result.region)
        .limit(1)
    )
    with store.session() as session:
        return session.execute(query).first() is not None


def _values(result: ProbeResult) -> dict[str, object]:
    values = {name: getattr(result, name) for name in _FIELDS}
    values["outcome"] = result.outcome.value
    return values


def between(
    store: Store,
    since: datetime | None = None,
    until: datetime | None = None,
    *,
    targets: Sequence[str] | None = None,
    batch: int = 5000,
) -> Iterator[ProbeResult]:
    """Results with `since <= ts < until`, oldest first, streamed in batches (constant memory).

    Read with SQLAlchemy Core rather than ORM objects: about five times faster, which exports of
    millions of rows and detection's restore at start-up both feel."""
    table = ProbeRow.__table__  # type: ignore[attr-defined]
    query = sa_select(*(table.c[name] for name in _FIELDS)).order_by(table.c.ts, table.c.id)
    if since is not None:
        query = query.where(table.c.ts >= since)
    if until is not None:
        query = query.where(table.c.ts < until)
    if targets:
        query = query.where(table.c.target.in_(list(targets)))
    with store.session() as session:
        result = session.execute(query.execution_options(yield_per=batch))
        for part in result.partitions():
            for row in part:
                values = dict(zip(_FIELDS, row, strict=True))
                if values["ts"].tzinfo is None:
                    values["ts"] = values["ts"].replace(tzinfo=UTC)
                yield ProbeResult(**values)


def latest(store: Store, target: str, limit: int = 100) -> list[ProbeResult]:
    """The newest `limit` results of `target`, oldest first."""
    query = (
        select(ProbeRow)
        .where(ProbeRow.target == target)
        .order_by(col(ProbeRow.ts).desc(), col(ProbeRow.id).desc())
        .limit(limit)
    )
    with store.session() as session:
        rows = list(session.exec(query))
    return [from_row(r) for r in reversed(rows)]


def count(store: Store, target: str | None = None) -> int:
    query = select(func.count()).select_from(ProbeRow)
    if target is not None:
        query = query.where(ProbeRow.target == target)
    with store.session() as session:
        return int(session.exec(query).one())


# A loose index scan: one index probe per distinct target instead of reading every row, so the
# cost is O(targets · log rows). `SELECT DISTINCT target` reads the whole index (100 ms at 432k
# rows), which every API request would pay.
_KNOWN_TARGETS = text(
    """
    WITH RECURSIVE seen(target) AS (
        SELECT MIN(target) FROM probe_results
        UNION ALL
        SELECT (SELECT MIN(target) FROM probe_results WHERE target > seen.target)
        FROM seen WHERE seen.target IS NOT NULL
    )
    SELECT target FROM seen WHERE target IS NOT NULL
    """
)


def known_targets(store: Store) -> list[str]:
    """Every target that has at least one stored result, sorted (a loose index scan)."""
    with store.session() as session:
        return [str(row[0]) for row in session.execute(_KNOWN_TARGETS)]
