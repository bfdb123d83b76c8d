"""The results table round-trips every field of the record, on SQLite and PostgreSQL."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from monitor.errors import StorageError
from monitor.result import Outcome, ProbeResult
from monitor.store import Store, open_store, results
from monitor.store.db import (
    MIGRATIONS,
    SCHEMA_VERSION,
    _add_retry_reason,
    _add_stream_clock,
    _add_tool_check,
    _add_top_logprobs,
    schema_version,
)

T0 = datetime(2026, 11, 28, 10, 0, 0, 123000, tzinfo=UTC)


def _result(i: int, **kw: object) -> ProbeResult:
    values: dict[str, object] = dict(
        ts=T0 + timedelta(minutes=i),
        target="openai/gpt-4o-mini",
        provider="openai",
        model="gpt-4o-mini",
        canary="arithmetic",
        outcome=Outcome.OK,
        http_status=200,
        connect_ms=41.2,
        ttft_ms=312.5,
        latency_ms=540.1,
        input_tokens=21,
        output_tokens=2,
        tokens_per_s=35.2,
        quality_ok=True,
        answer="391",
        response_model="gpt-4o-mini-2024-07-18",
        cost_usd=0.0000044,
        system_fingerprint="fp_1",
        first_chunk_ms=290.0,
        last_chunk_ms=541.3,
        chunks=5,
        duration_ms=542.0,
    )
    values.update(kw)
    return ProbeResult(**values)  # type: ignore[arg-type]


def test_a_result_round_trips_every_field(any_store: Store) -> None:
    original = _result(0, retry_reason="ReadError (on a reused connection; sent again)")
    results.record(any_store, [original, _result(1, outcome=Outcome.TIMEOUT, ttft_ms=None)])
    back = list(results.between(any_store))
    assert back[0] == original
    assert back[1].outcome is Outcome.TIMEOUT and back[1].ttft_ms is None


def test_between_honours_the_range_and_targets(any_store: Store) -> None:
    results.record(any_store, [_result(i) for i in range(10)])
    results.record(
        any_store,
        [_result(i, target="anthropic/x", provider="anthropic", model="x") for i in range(3)],
    )
    got = list(
        results.between(
            any_store,
            T0 + timedelta(minutes=2),
            T0 + timedelta(minutes=5),
            targets=["openai/gpt-4o-mini"],
        )
    )
    assert [r.ts.minute for r in got] == [2, 3, 4]
    assert results.known_targets(any_store) == ["anthropic/x", "openai/gpt-4o-mini"]
    assert [r.ts.minute for r in results.latest(any_store, "openai/gpt-4o-mini", 2)] == [8, 9]


def test_the_schema_is_versioned(store: Store) -> None:
    assert schema_version(store) == SCHEMA_VERSION


# Columns added by migrations: (column, the migration that adds it, a value to store).
ADDED_COLUMNS = [
    ("retry_reason", _add_retry_reason, "WriteError (on a reused connection)"),
    ("tool_check", _add_tool_check, "schema_mismatch"),
]


@pytest.mark.parametrize(("column", "migration", "value"), ADDED_COLUMNS)
def test_a_database_from_before_a_column_gains_it(
    any_store: Store, column: str, migration: object, value: str
) -> None:
    results.record(any_store, [_result(0)])
    with any_store.engine.begin() as conn:  # back to the schema before `column`
        conn.execute(text(f"ALTER TABLE probe_results DROP COLUMN {column}"))
        before = MIGRATIONS.index(migration) + 1  # type: ignore[arg-type]
        conn.execute(text(f"UPDATE schema_version SET version = {before}"))
    url = any_store.engine.url.render_as_string(hide_password=False)
    any_store.close()

    reopened = open_store(url)
    try:
        assert schema_version(reopened) == SCHEMA_VERSION
        results.record(reopened, [_result(1, **{column: value})])
        back = list(results.between(reopened))
        assert [getattr(r, column) for r in back] == [None, value]
    finally:
        reopened.close()


def test_top_logprobs_round_trip_and_a_nul_in_a_token_is_stored_as_replacement(
    any_store: Store,
) -> None:
    pairs = [["Paris", -0.0123], [" Paris", -3.5], ["Pa\x00", -7.25]]
    results.record(any_store, [_result(0, top_logprobs=pairs), _result(1)])
    back = list(results.between(any_store))
    assert back[0].top_logprobs == [["Paris", -0.0123], [" Paris", -3.5], ["Pa\ufffd", -7.25]]
    assert back[1].top_logprobs is None


def test_a_database_from_before_top_logprobs_gains_the_column(any_store: Store) -> None:
    results.record(any_store, [_result(0)])
    with any_store.engine.begin() as conn:
        conn.execute(text("ALTER TABLE probe_results DROP COLUMN top_logprobs"))
        before = MIGRATIONS.index(_add_top_logprobs) + 1
        conn.execute(text(f"UPDATE schema_version SET version = {before}"))
    url = any_store.engine.url.render_as_string(hide_password=False)
    any_store.close()

    reopened = open_store(url)
    try:
        assert schema_version(reopened) == SCHEMA_VERSION
        results.record(reopened, [_result(1, top_logprobs=[["a", -0.5]])])
        assert [r.top_logprobs for r in results.between(reopened)] == [None, [["a", -0.5]]]
    finally:
        reopened.close()


_STREAM_CLOCK = ("first_chunk_ms", "last_chunk_ms", "chunks", "duration_ms")


def test_a_database_from_before_the_stream_clock_gains_its_columns(any_store: Store) -> None:
    results.record(any_store, [_result(0)])
    with any_store.engine.begin() as conn:  # back to the schema before the stream clock
        for column in _STREAM_CLOCK:
            conn.execute(text(f"ALTER TABLE probe_results DROP COLUMN {column}"))
        before = MIGRATIONS.index(_add_stream_clock) + 1
        conn.execute(text(f"UPDATE schema_version SET version = {before}"))
    url = any_store.engine.url.render_as_string(hide_password=False)
    any_store.close()

    reopened = open_store(url)
    try:
        assert schema_version(reopened) == SCHEMA_VERSION
        results.record(reopened, [_result(1)])
        back = list(results.between(reopened))
        assert [(r.first_chunk_ms, r.chunks) for r in back] == [(None, None), (290.0, 5)]
        assert back[1].last_chunk_ms == 541.3 and back[1].duration_ms == 542.0
    finally:
        reopened.close()


def test_sqlite_runs_in_wal_mode(store: Store) -> None:
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


def test_an_unusable_url_is_a_storage_error() -> None:
    with pytest.raises(StorageError):
        open_store("nosuchdb://x")
    with pytest.raises(StorageError):
        open_store("sqlite:////nonexistent/dir/x.db")


def test_a_failed_migration_is_a_storage_error_that_leaves_no_connection_open(
    any_store: Store,
) -> None:
    url = any_store.engine.url.render_as_string(hide_password=False)
    with any_store.engine.begin() as conn:
        # The schema says version 1 and the rollups look like the old layout, but a table
        # `rollups_v1` is in the way: what a database another build left half-migrated looks
        # like. Migration 2 then fails at its rename.
        conn.execute(text("UPDATE schema_version SET version = 1"))
        conn.execute(text("ALTER TABLE rollups ADD COLUMN lat_h00 INTEGER"))
        conn.execute(text("CREATE TABLE rollups_v1 (x INTEGER)"))
    tag = f"leakcheck_{uuid.uuid4().hex[:10]}"
    if any_store.dialect == "postgresql":
        url = f"{url}&application_name={tag}"
    with pytest.raises(StorageError, match="cannot open database"):
        open_store(url)
    if any_store.dialect == "postgresql":
        # A closed connection's backend leaves pg_stat_activity a moment after the client hangs
        # up; a connection left open stays there.
        def still_open() -> int:
            with any_store.engine.connect() as conn:
                return int(
                    conn.execute(
                        text("SELECT count(*) FROM pg_stat_activity WHERE application_name = :tag"),
                        {"tag": tag},
                    ).scalar_one()
                )

        for _ in range(50):
            if still_open() == 0:
                break
            time.sleep(0.1)
        assert still_open() == 0
