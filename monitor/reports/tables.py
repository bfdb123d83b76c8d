"""The exportable tables: each is its columns (with Parquet types) and a stream of row dicts.

Row values are native (datetimes, lists); the writers in `monitor.reports.export` encode them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa

from monitor.errors import UsageError
from monitor.reports.statuses import DetectionStore, incident_seconds
from monitor.result import ProbeResult
from monitor.secrets import Scrubber
from monitor.store import Store, results

Rows = Callable[
    [Store, datetime | None, datetime | None, Sequence[str] | None, Scrubber],
    Iterator[dict[str, Any]],
]
_TS = pa.timestamp("us", tz="UTC")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Table:
    schema: pa.Schema
    rows: Rows

    @property
    def column_names(self) -> list[str]:
        return list(self.schema.names)


_PA_TYPES: dict[str, pa.DataType] = {
    "ts": _TS,
    "http_status": pa.int32(),
    "connect_ms": pa.float64(),
    "ttft_ms": pa.float64(),
    "latency_ms": pa.float64(),
    "input_tokens": pa.int64(),
    "output_tokens": pa.int64(),
    "tokens_per_s": pa.float64(),
    "quality_ok": pa.bool_(),
    "cost_usd": pa.float64(),
    "tokens_estimated": pa.bool_(),
    "first_chunk_ms": pa.float64(),
    "last_chunk_ms": pa.float64(),
    "chunks": pa.int64(),
    "duration_ms": pa.float64(),
}
# The record's fields in `to_dict` order (the contract's first).
RESULT_FIELDS = [f.name for f in dataclasses.fields(ProbeResult) if f.name != "extra"]
RESULT_SCHEMA = pa.schema([(name, _PA_TYPES.get(name, pa.string())) for name in RESULT_FIELDS])


def _result_rows(
    store: Store,
    since: datetime | None,
    until: datetime | None,
    targets: Sequence[str] | None,
    scrubber: Scrubber,
) -> Iterator[dict[str, Any]]:
    scrub = scrubber.scrub
    for result in results.between(store, since, until, targets=targets):
        # `ProbeResult.to_dict` with the timestamp kept native, field by field: this loop runs
        # once per exported row, and dataclasses.fields() per row would double its cost.
        row = {name: getattr(result, name) for name in RESULT_FIELDS}
        row["outcome"] = result.outcome.value
        row["answer"] = scrub(result.answer)
        row["error"] = scrub(result.error)
        row["response_model"] = scrub(result.response_model)
        yield row


TRANSITION_SCHEMA = pa.schema(
    [
        ("ts", _TS),
        ("target", pa.string()),
        ("old", pa.string()),
        ("new", pa.string()),
        ("reasons", pa.list_(pa.string())),
        ("details", pa.string()),
    ]
)


def _transition_rows(
    store: Store,
    since: datetime | None,
    until: datetime | None,
    targets: Sequence[str] | None,
    scrubber: Scrubber,
) -> Iterator[dict[str, Any]]:
    # Read before writing starts (transitions are few), so a database without them fails cleanly.
    found = DetectionStore(store).transitions(since or _EPOCH, until, targets)
    if found is None:
        raise UsageError("this database has no status transitions yet")
    return ({**t.to_dict(), "ts": t.ts, "details": dict(t.details)} for t in found)


INCIDENT_SCHEMA = pa.schema(
    [
        ("id", pa.int64()),
        ("target", pa.string()),
        ("start", _TS),
        ("end", _TS),
        ("duration_s", pa.float64()),
        ("worst", pa.string()),
        ("reasons", pa.list_(pa.string())),
        ("peak", pa.string()),
    ]
)


def _incident_rows(
    store: Store,
    since: datetime | None,
    until: datetime | None,
    targets: Sequence[str] | None,
    scrubber: Scrubber,
) -> Iterator[dict[str, Any]]:
    until = until or datetime.now(UTC)
    found = DetectionStore(store).incidents(since or _EPOCH, until, targets)
    if found is None:
        raise UsageError("this database has no incidents yet")
    # `duration_s` is empty while an incident is open: its length is not known yet.
    return (
        {
            **inc.to_dict(),
            "start": inc.start,
            "end": inc.end,
            "duration_s": incident_seconds(inc, until) if inc.end is not None else None,
        }
        for inc in found
    )


TABLES: dict[str, Table] = {
    "results": Table(RESULT_SCHEMA, _result_rows),
    "incidents": Table(INCIDENT_SCHEMA, _incident_rows),
    "transitions": Table(TRANSITION_SCHEMA, _transition_rows),
}
