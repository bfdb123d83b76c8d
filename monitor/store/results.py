"""Writing and reading probe results. `record` is the only write path for results."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime

from sqlalchemy import String, column, func, insert, text, values
from sqlalchemy import select as sa_select
from sqlmodel import col, select

from monitor.result import ProbeResult
from monitor.store import partitions, rollup_write
from monitor.store.db import Store
from monitor.store.rollup_table import DAY, rollups
from monitor.store.tables import ProbeRow

_FIELDS = [name for name in ProbeRow.model_fields if name != "id"]
_TEXT = (
    *("target", "provider", "model", "canary", "region"),
    *("answer", "response_model", "system_fingerprint", "error", "retry_reason", "tool_check"),
)
_INTS = ("http_status", "input_tokens", "output_tokens", "chunks")
_FLOATS = (
    *("connect_ms", "ttft_ms", "latency_ms", "tokens_per_s", "cost_usd"),
    *("first_chunk_ms", "last_chunk_ms", "duration_ms"),
)


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


NUL_REPLACEMENT = "\ufffd"
"""What a NUL character in a text field is stored as (PostgreSQL refuses NUL in text)."""
INT_MAX = 2**31 - 1
"""The largest whole number an integer column holds on PostgreSQL (a 4-byte `integer`)."""


def storable(result: ProbeResult) -> ProbeResult:
    """`result` as both engines store it alike: NUL in a text field becomes U+FFFD (PostgreSQL
    refuses NUL, SQLite would keep it, and readers would disagree); a count outside an integer
    column's range and a NaN or infinite measure become None (no real reply has them). The same
    object when nothing needs changing."""
    changes: dict[str, object] = {}
    for name in _TEXT:
        value = getattr(result, name)
        if isinstance(value, str) and "\x00" in value:
            changes[name] = value.replace("\x00", NUL_REPLACEMENT)
    for name in _INTS:
        value = getattr(result, name)
        if isinstance(value, int) and not -INT_MAX <= value <= INT_MAX:
            changes[name] = None
    for name in _FLOATS:
        value = getattr(result, name)
        if isinstance(value, float) and not math.isfinite(value):
            changes[name] = None
    pairs = result.top_logprobs
    if pairs and any("\x00" in token for token, _ in pairs):
        changes["top_logprobs"] = [[t.replace("\x00", NUL_REPLACEMENT), lp] for t, lp in pairs]
    return dataclasses.replace(result, **changes) if changes else result  # type: ignore[arg-type]


def record(store: Store, results: Iterable[ProbeResult]) -> int:
    """Store `results` in one transaction, with their rollups; returns how many were stored.

    Each result is stored in its `storable` form, so text a provider sent (a NUL byte, an absurd
    token count) never makes the database refuse the batch."""
    results = [storable(r) for r in results]
    if not results:
        return 0
    # A Core insert of plain dicts: ORM objects cost several times the database's own work.
    rows = [_values(r) for r in results]
    with store.session() as session:
        partitions.ensure(session.connection(), partitions.days_of(r.ts for r in results))
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


def newest_since(store: Store, since: datetime) -> dict[str, datetime]:
    """Each target's newest result time at or after `since` (one grouped read over the ts index)."""
    t = ProbeRow.__table__.c  # type: ignore[attr-defined]
    # Grouped by `target || ''`, not `target`: SQLite would otherwise walk the whole
    # (target, ts) index to group without sorting, instead of seeking the recent rows by ts.
    name = t.target.concat("")
    query = sa_select(name, func.max(t.ts)).where(t.ts >= since).group_by(name)
    with store.session() as session:
        return {row[0]: _utc(row[1]) for row in session.execute(query)}


def newest_of(store: Store, targets: Sequence[str]) -> dict[str, datetime]:
    """The newest result time of each of `targets` (those with any) in one statement per 200: an
    index seek per target on (target, ts), however many results there are.

    The names are a `VALUES` list the one correlated `max(ts)` reads row by row, so PostgreSQL
    plans that subquery once: a `UNION ALL` of one subquery per target had it planned per target
    over every day partition (200 targets x 93 partitions: ~10 s of planning, 1 s for 20)."""
    t = ProbeRow.__table__.c  # type: ignore[attr-defined]
    out: dict[str, datetime] = {}
    with store.session() as session:
        for start in range(0, len(targets), 200):
            part = targets[start : start + 200]
            wanted = values(column("name", String), name="wanted").data([(n,) for n in part])
            names = wanted.cte("wanted")
            newest = sa_select(func.max(t.ts)).where(t.target == names.c.name).scalar_subquery()
            query = sa_select(names.c.name, newest)
            out |= {row[0]: _utc(row[1]) for row in session.execute(query) if row[1] is not None}
    return out


def _utc(ts: datetime) -> datetime:
    return ts if ts.tzinfo else ts.replace(tzinfo=UTC)


def count(store: Store, target: str | None = None) -> int:
    query = select(func.count()).select_from(ProbeRow)
    if target is not None:
        query = query.where(ProbeRow.target == target)
    with store.session() as session:
        return int(session.exec(query).one())


# A loose index scan: one index probe per distinct target instead of reading every row, so the
# cost is O(targets · log rows). `SELECT DISTINCT target` reads the whole index (100 ms at 432k
# rows), which every API request would pay.
_KNOWN_TARGETS = """
    WITH RECURSIVE seen(target) AS (
        SELECT MIN(target) FROM probe_results{where}
        UNION ALL
        SELECT (SELECT MIN(target) FROM probe_results WHERE target > seen.target{also})
        FROM seen WHERE seen.target IS NOT NULL
    )
    SELECT target FROM seen WHERE target IS NOT NULL
    """
_EVERY_TARGET = text(_KNOWN_TARGETS.format(where="", also=""))
_TARGETS_BEFORE = text(_KNOWN_TARGETS.format(where=" WHERE ts < :before", also=" AND ts < :before"))


def known_targets(store: Store) -> list[str]:
    """Every target that has at least one stored result, sorted (a loose index scan).

    On PostgreSQL with day partitions, each step of that scan probes every partition (200
    targets × 93 days: 0.3–0.9 s), so there the targets come from the day rollups instead, and
    the scan is left only the raw results older than the oldest day row (none, unless raw
    results are kept longer than rollups): every result is stored with its rollups
    (`record`), and retention deletes day rows oldest first, so each result from the oldest
    day row's day on still has its target's day row."""
    with store.session() as session:
        if not partitions.is_partitioned(session.connection()):
            return [str(row[0]) for row in session.execute(_EVERY_TARGET)]
        t = rollups.c
        day_rows = t.grain == DAY
        oldest = session.execute(sa_select(func.min(t.bucket)).where(day_rows)).scalar()
        if oldest is None:
            return [str(row[0]) for row in session.execute(_EVERY_TARGET)]
        found = {
            str(row[0]) for row in session.execute(sa_select(t.target).where(day_rows).distinct())
        }
        before = datetime.fromtimestamp(int(oldest), UTC)
        found |= {str(row[0]) for row in session.execute(_TARGETS_BEFORE, {"before": before})}
        return sorted(found)


def tool_checks(
    store: Store, since: datetime, until: datetime, targets: Sequence[str]
) -> dict[str, dict[str, int]]:
    """Per target, its tool canaries' answered probes with `since <= ts < until`, counted by
    `tool_check` word (`{"ok": 14, "schema_mismatch": 1}`); targets without any are left out.
    Read over the (target, ts) index: the switch's window is minutes."""
    t = ProbeRow.__table__.c  # type: ignore[attr-defined]
    query = (
        sa_select(t.target, t.tool_check, func.count())
        .where(t.ts >= since, t.ts < until, t.tool_check.is_not(None))
        .where(t.target.in_(list(targets)))
        .group_by(t.target, t.tool_check)
    )
    out: dict[str, dict[str, int]] = {}
    if not targets:
        return out
    with store.session() as session:
        for target, word, n in session.execute(query):
            out.setdefault(str(target), {})[str(word)] = int(n)
    return out
