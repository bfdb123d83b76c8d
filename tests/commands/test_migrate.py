"""`brownout migrate`: a SQLite history copied into PostgreSQL, row for row and figure for figure,
and a second run after an interruption carrying on where the first stopped."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import delete, select

from monitor.detect.types import IncidentRecord, Status, TargetStatus, Transition
from monitor.result import Outcome, ProbeResult
from monitor.store import (
    Store,
    detection,
    migrate,
    open_store,
    outbox,
    partitions,
    results,
    rollups,
)
from monitor.store.outbox import AlertLogRow, Message
from monitor.store.rollups import HOUR
from monitor.store.tables import ProbeRow

T0 = datetime(2026, 11, 20, tzinfo=UTC)
TARGETS = ["openai/gpt-4o-mini", "anthropic/claude-haiku-4-5"]


def _history(store: Store, n: int = 3000) -> None:
    batch = []
    for i in range(n):
        target = TARGETS[i % 2]
        provider, _, model = target.partition("/")
        failed = i % 17 == 0
        batch.append(
            ProbeResult(
                ts=T0 + timedelta(seconds=30 * i),
                target=target,
                provider=provider,
                model=model,
                canary="arithmetic",
                region=["eu-west", "us-east"][i % 3 == 0],
                outcome=Outcome.SERVER_ERROR if failed else Outcome.OK,
                http_status=500 if failed else 200,
                ttft_ms=None if failed else 300.0 + i % 50,
                latency_ms=None if failed else 700.0 + i % 90,
                quality_ok=None if failed else True,
            )
        )
    results.record(store, batch)
    down = Transition(
        T0 + timedelta(hours=2), TARGETS[0], Status.OPERATIONAL, Status.DOWN, ["errors"]
    )
    incident = IncidentRecord(TARGETS[0], down.ts, Status.DOWN, reasons=["errors"])
    detection.save_detection(
        store,
        transitions=[down],
        incidents=[incident],
        statuses=[TargetStatus(TARGETS[0], Status.DOWN, down.ts, ["errors"])],
        now=down.ts,
    )
    log = AlertLogRow(
        recorded_at=down.ts, ts=down.ts, channel="oncall", target=TARGETS[0], old="operational",
        new="down", decision="queued",
    )  # fmt: skip
    outbox.commit(
        store, [log], [Message("oncall", ["json://127.0.0.1:9/x"], [{"a": 1}], down.ts)], down.ts
    )


def _migrate(source: str, target: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BROWNOUT_")}
    return subprocess.run(
        [sys.executable, "-m", "monitor", "migrate", "--from", source, "--to", target],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


def _figures(url: str) -> tuple[list[ProbeResult], list[tuple[object, ...]], list[object]]:
    store = open_store(url)
    try:
        rows = list(results.between(store))
        hours = [
            (a.target, a.start, a.n, a.failures)
            for a in rollups.fetch(store, HOUR, T0, T0 + timedelta(days=2))
        ]
        return rows, hours, [i.to_dict() for i in detection.incidents_between(store)]
    finally:
        store.close()


def test_a_sqlite_history_moves_to_postgresql_with_equal_rows_and_figures(
    tmp_path: Path, pg_url: str
) -> None:
    source_url = f"sqlite:///{tmp_path}/old.db"
    source = open_store(source_url)
    _history(source)
    before = migrate.counts(source)
    source.close()

    done = _migrate(source_url, pg_url)

    assert done.returncode == 0, done.stderr
    assert "equal in both" in done.stdout
    old, new = _figures(source_url), _figures(pg_url)
    assert new == old  # every result, hourly rollup and incident, equal
    assert len(old[0]) == 3000 and old[1] and old[2]
    target = open_store(pg_url)
    try:
        assert migrate.counts(target) == before
        # Into the partitioned layout of a new database: the 25 hours of results in two days.
        by_day = {d: n for d, n in partitions.rows_by_day(target.engine).items() if n}
        assert by_day == {T0.date(): 2880, (T0 + timedelta(days=1)).date(): 120}
        assert before["transitions"] == 1 and before["alert_outbox"] == 1
        # A new row after the copy gets a fresh id: the sequences moved past the copied ones.
        results.record(target, [old[0][0]])
        assert migrate.counts(target)["probe_results"] == 3001
    finally:
        target.close()


def test_a_migration_run_again_after_an_interruption_carries_on_and_copies_nothing_twice(
    tmp_path: Path, pg_url: str
) -> None:
    source_url = f"sqlite:///{tmp_path}/old.db"
    source = open_store(source_url)
    _history(source)
    source.close()
    assert _migrate(source_url, pg_url).returncode == 0
    # An interruption: the copy stopped after the first 1,200 results (batches go in id order).
    target = open_store(pg_url)
    try:
        with target.session() as session:
            session.execute(delete(ProbeRow).where(ProbeRow.id > 1200))  # type: ignore[arg-type]
        assert migrate.counts(target)["probe_results"] == 1200
    finally:
        target.close()

    again = _migrate(source_url, pg_url)
    assert again.returncode == 0, again.stderr
    twice = _migrate(source_url, pg_url)
    assert twice.returncode == 0, twice.stderr

    old, new = _figures(source_url), _figures(pg_url)
    assert new == old
    target = open_store(pg_url)
    try:
        with target.session() as session:
            ids = list(session.execute(select(ProbeRow.id)).scalars())  # type: ignore[call-overload]
        assert len(ids) == len(set(ids)) == 3000
    finally:
        target.close()
