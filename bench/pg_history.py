"""The status page and the 90-day report on PostgreSQL with tens of millions of raw results.

    .venv/bin/python -m bench.pg_history [--db bench_pg50m] [--targets 200] [--every 30]
                                         [--days 90] [--workers 2] [--seed-only | --measure-only]
                                         [--drop]

Seeds a database of its own on the local PostgreSQL (`--db`, created; `--drop` drops it at the
end: tens of GB), in the partitioned layout every new PostgreSQL database gets
(`monitor.store.partitions`), then measures. Defaults: 90 days × 200 targets × one probe every
30 s = 51.8 M results, every one of them kept raw (a `raw_retention` of 90 days), so the page's
raw reads (statuses, newest probes, the transfer switch) run against 52 M rows in 90 partitions.

Seeding (generating and aggregating 52 M results in Python would take hours on this machine):
one week of history is generated, seven distinct days, and the other weeks repeat it.
- Each of the seven days comes from `monitor.demo.backfill.generate` (the demo's history: daily
  rhythm, ordinary failures, the brownouts and outages of `bench.dashboard.episodes`) and goes
  with `COPY` into a table of its own.
- Every day of the history is one of them moved by whole weeks: `INSERT … SELECT ts + n days`
  into a table made `LIKE probe_results`, then `ATTACH`ed as that day's partition (PostgreSQL
  builds the partition's indexes once, on attach, instead of row by row).
- The rollups come from the monitor's own code: `rollup_write.aggregate` over the seven days'
  results, each row moved by the same weeks as its day's results (exactly the rows aggregating
  the moved results would give) and written by `rollup_write.upsert`, the statement every
  `results.record` runs: minute, hour and day rows for the last two days, hour and day rows
  before (what retention leaves: minute rows are kept two days).

Measured: rows and sizes, `dashboard.data.load` for all targets per range (first call, then the
median of three), the 90-day report-style aggregate from the rollups and `build_report` over 90
days (what `brownout report --since 90d` runs), with the load average beside them.
"""

from __future__ import annotations

import argparse
import io
import json
import multiprocessing
import os
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, text

from monitor.demo.backfill import batched, generate
from monitor.result import ProbeResult
from monitor.store import open_store, rollup_write, rollups
from monitor.store.partitions import name_of
from monitor.store.results import _FIELDS, storable

ADMIN = os.environ.get("BROWNOUT_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
BATCH_HOURS = 1
MINUTE_DAYS = 2


def url_of(db: str) -> str:
    return ADMIN.rsplit("/", 1)[0] + "/" + db


def _admin() -> Any:
    return create_engine(ADMIN, isolation_level="AUTOCOMMIT")


def create_database(db: str) -> None:
    engine = _admin()
    with engine.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {db}"))
        conn.execute(text(f"CREATE DATABASE {db}"))
    engine.dispose()


def drop_database(db: str) -> None:
    engine = _admin()
    with engine.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)"))
    engine.dispose()


def _cell(value: Any) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, str):
        if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
            value = (
                value.replace("\\", "\\\\")
                .replace("\t", "\\t")
                .replace("\n", "\\n")
                .replace("\r", "\\r")
            )
        return value
    if isinstance(value, (dict, list)):
        return _cell(json.dumps(value))
    if hasattr(value, "value"):  # the outcome
        return str(value.value)
    return str(value)


def _copy_text(batch: Sequence[ProbeResult]) -> str:
    out = io.StringIO()
    for r in batch:
        out.write("\t".join(_cell(getattr(r, name)) for name in _FIELDS))
        out.write("\n")
    return out.getvalue()


WEEK = 7


def seed_template(args: tuple[str, list[str], datetime, int, datetime, int, int]) -> int:
    """Generate template day `t` (of the first week), COPY it into a table of its own, aggregate
    it with `rollup_write.aggregate`, then make every day `k ≡ t (mod 7)` of the history from it:
    the raw rows by `INSERT … SELECT` with `ts` moved by whole weeks into a table that is then
    ATTACHed as day k's partition, the rollup rows moved by as many weeks and written with
    `rollup_write.upsert` (minute rows only for the last two days). Returns the results made."""
    url, targets, since, every, end, t, days = args
    from bench.dashboard import episodes

    trouble = episodes(targets, since, WEEK)
    store = open_store(url, create=False)
    day_start = since + timedelta(days=t)
    template = f"bench_template_{t}"
    raw = store.engine.raw_connection()
    columns = ", ".join(_FIELDS)
    made_n = 0
    try:
        cur = raw.cursor()
        cur.execute(f"CREATE TABLE {template} (LIKE probe_results INCLUDING DEFAULTS)")
        raw.commit()
        made = generate(
            targets,
            day_start,
            day_start + timedelta(days=1),
            interval=every,
            episodes=trouble,
            seed=t,
        )
        rows: list[list[Any]] = []
        per_batch = len(targets) * int(3600 // every)
        for batch in batched((storable(r) for r in made), per_batch):
            with cur.copy(f"COPY {template} ({columns}) FROM STDIN") as copy:  # type: ignore[attr-defined]
                copy.write(_copy_text(batch))
            rows += rollup_write.aggregate(batch)
        raw.commit()
        others = [c for c in _FIELDS if c != "ts"]
        for k in range(t, days, WEEK):
            shift = timedelta(days=k - t)
            lo = day_start + shift
            hi = lo + timedelta(days=1)
            part = name_of(lo.date())
            cur.execute(f"CREATE TABLE {part} (LIKE probe_results INCLUDING DEFAULTS)")
            cur.execute(
                f"INSERT INTO {part} (ts, {', '.join(others)}) SELECT ts + interval "
                f"'{k - t} days', {', '.join(others)} FROM {template}"
            )
            cur.execute(
                f"ALTER TABLE probe_results ATTACH PARTITION {part} FOR VALUES FROM "
                f"('{lo.isoformat()}') TO ('{hi.isoformat()}')"
            )
            raw.commit()
            seconds = int(shift.total_seconds())
            minutes = lo >= end - timedelta(days=MINUTE_DAYS)
            moved = [
                [r[0], r[1] + seconds, *r[2:]] for r in rows if minutes or r[0] != rollups.MINUTE
            ]
            with store.session() as session:
                for start in range(0, len(moved), 20_000):
                    rollup_write.upsert(session, moved[start : start + 20_000])
            made_n += int(cur.execute(f"SELECT count(*) FROM {part}").fetchone()[0])
            print(f"    day {k + 1}/{days} from template {t}", flush=True)
        cur.execute(f"DROP TABLE {template}")
        raw.commit()
    finally:
        raw.close()
        store.close()
    return made_n


def seed(db: str, targets: list[str], days: int, every: int, workers: int, end: datetime) -> int:
    create_database(db)
    url = url_of(db)
    store = open_store(url)  # the schema, partitioned, with today's partitions ahead
    store.close()
    since = end - timedelta(days=days)
    jobs = [(url, targets, since, every, end, t, days) for t in range(min(WEEK, days))]
    started = time.perf_counter()
    total = 0
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(workers) as pool:
        for i, n in enumerate(pool.imap_unordered(seed_template, jobs), 1):
            total += n
            rate = total / (time.perf_counter() - started)
            print(f"  template {i}/{len(jobs)} done: {total:,} results ({rate:,.0f}/s)", flush=True)
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        # What autovacuum would have done by now on a database that grew day by day: the
        # rollups' dead rows (every upsert leaves one) vacuumed, the parent's statistics taken.
        conn.execute(text("VACUUM (ANALYZE) rollups"))
        conn.execute(text("ANALYZE probe_results"))
    engine.dispose()
    return total


def _time(fn: Callable[[], Any], repeat: int = 1) -> tuple[float, Any]:
    times, value = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        value = fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times), value


def measure(db: str, targets: list[str], end: datetime, args: argparse.Namespace) -> list[str]:
    from dashboard import data
    from monitor.config import Config
    from monitor.config.schema import StorageConfig
    from monitor.reports.build import build_report

    url = url_of(db)
    engine = create_engine(url)
    with engine.connect() as conn:
        # The planner's count (exact after ANALYZE): count(*) reads all 12 GB of them.
        raw_rows = int(
            conn.execute(
                text(
                    "SELECT sum(c.reltuples) FROM pg_inherits i JOIN pg_class c "
                    "ON c.oid = i.inhrelid WHERE i.inhparent = 'probe_results'::regclass"
                )
            ).scalar_one()
        )
        parts = conn.execute(
            text("SELECT count(*) FROM pg_inherits WHERE inhparent = 'probe_results'::regclass")
        ).scalar_one()
        grains = dict(
            conn.execute(text("SELECT grain, count(*) FROM rollups GROUP BY grain")).all()
        )
        size = conn.execute(text("SELECT pg_database_size(current_database())")).scalar_one()
    engine.dispose()
    store = open_store(url, readonly=True)
    config = Config(storage=StorageConfig(url=url))
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    lines = [
        f"{db}: {args.days} days × {len(targets)} targets × 1 per {args.every} s = "
        f"~{raw_rows:,} raw results in {parts} partitions; rollup rows "
        + ", ".join(f"{grains.get(g, 0):,} {g}s" for g in rollups.GRAINS),
        f"  database {size / 1e9:.1f} GB ({size / raw_rows:.0f} bytes per result); "
        f"load average before measuring: {load}",
    ]
    first, _ = _time(lambda: data.load(store, config, end, range_key="24h"))
    lines.append(f"  page data, first call in this process (24h): {first * 1000:,.0f} ms")
    worst = 0.0
    for key in data.RANGES:
        took, page = _time(lambda key=key: data.load(store, config, end, range_key=key), repeat=3)
        worst = max(worst, took)
        detail = ", ".join(f"{k} {v * 1000:.0f}" for k, v in page.timings.items())
        lines.append(f"  page data {key:>4}: {took * 1000:6,.0f} ms  [{detail}]")
    lines.append(f"  page data worst case: {worst * 1000:,.0f} ms (goal < 1000)")
    since90 = end - timedelta(days=90)

    def report() -> dict[str, Any]:
        got = rollups.summary(store, since90, end)
        return {
            t: (a.n, a.uptime, a.percentile("lat", 0.5), a.percentile("lat", 0.95))
            for t, a in got.items()
        }

    r90, _ = _time(report, repeat=3)
    lines.append(
        f"  90-day report from rollups (per target n, uptime, p50, p95): {r90 * 1000:,.0f} ms"
    )
    full, _ = _time(lambda: build_report(store, config, since90, end, now=end))
    lines.append(
        f"  `brownout report --since 90d` (build_report, all targets): {full:,.2f} s (goal < 2)"
    )
    store.close()
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    lines.append(f"  load average after measuring (1, 5, 15 min): {load} on {os.cpu_count()} CPUs")
    return lines


def main(argv: list[str] | None = None) -> int:
    from bench.dashboard import fleet

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", default="bench_pg50m")
    parser.add_argument("--targets", type=int, default=200)
    parser.add_argument("--every", type=int, default=30)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed-only", action="store_true")
    parser.add_argument("--measure-only", action="store_true")
    parser.add_argument("--drop", action="store_true", help="drop the database at the end")
    args = parser.parse_args(argv)
    targets = fleet(args.targets)
    end = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    if not args.measure_only:
        print(f"seeding {args.db}: {args.days} d × {args.targets} targets / {args.every} s")
        t0 = time.perf_counter()
        n = seed(args.db, targets, args.days, args.every, args.workers, end)
        load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
        print(f"seeded {n:,} results in {(time.perf_counter() - t0) / 60:.1f} min (load {load})")
    if not args.seed_only:
        print("\n".join(measure(args.db, targets, end, args)), flush=True)
    if args.drop:
        drop_database(args.db)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
