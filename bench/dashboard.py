"""The status page on a long history: 90 days × 200 targets × one probe a minute (25.9 M results).

    .venv/bin/python -m bench.dashboard [--targets 200] [--days 90] [--db PATH] [--reseed]
                                        [--python-scan] [--write-docs]

The seeded database is kept (default $TMPDIR/brownout-bench.db, ~2.6 GB) and reused by later
runs of the same size: seeding takes ~50 min on 2 CPUs, measuring a few minutes.

Seeding (skipped when `--db` already holds a seed of the same size; `--reseed` forces it): the
simulated history of `monitor.demo.backfill` (daily rhythm, ordinary failures, a few dozen
brownouts and outages) goes through the production write path, oldest first, with retention
run every simulated day as `brownout run` would:
- the last `raw_retention` days (30 by default) through `results.record`: raw rows + minute,
  hour and day rollups in one transaction, 12,000 results (an hour of the fleet) per call;
- older days through `rollup_write.add` alone, the rollup half of `record`, for hour and day rows:
  retention would already have deleted those raw rows and minute rollups, so writing them only
  to delete them would change nothing but the seeding time (~25 more minutes).
Every one of the results is generated and aggregated; none is skipped or estimated.

Measured in the same run: bytes on disk per result seen; the page's data (`dashboard.data.load`)
for each time range, all targets; a 90-day report-style aggregate from the rollups against the
same aggregate by a plain scan of the raw results (in SQL, and streamed into Python as a naive
report would). Goals: page data < 1 s; ≤ 150 bytes per stored result.
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from monitor.demo.backfill import Episode, batched, generate
from monitor.store import Store, open_store, results, retention, rollup_write, rollups

RAW_DAYS = 30
BATCH = 12_000
PROVIDERS = ["openai", "anthropic", "gemini", "mistral", "groq", "together", "fireworks", "xai"]


def fleet(n: int) -> list[str]:
    return [f"{PROVIDERS[i % len(PROVIDERS)]}/model-{i // len(PROVIDERS):02d}" for i in range(n)]


def episodes(targets: list[str], since: datetime, days: int) -> list[Episode]:
    """A few dozen brownouts and outages spread over the history, the same every run."""
    rng = random.Random(7)
    out = []
    for _ in range(max(3, days // 2)):
        start = since + timedelta(minutes=rng.randrange(days * 1440))
        hours = rng.choice([0.5, 1, 2, 4])
        kind = rng.choice(["quality", "latency", "outage"])
        out.append(Episode(rng.choice(targets), start, start + timedelta(hours=hours), kind))  # type: ignore[arg-type]
    return out


def seed(store: Store, targets: list[str], days: int, now: datetime) -> int:
    """Write `days` of history ending at `now`; returns how many results were generated."""
    since = now - timedelta(days=days)
    trouble = episodes(targets, since, days)
    raw_from = now - timedelta(days=RAW_DAYS)
    total = 0
    started = time.perf_counter()
    for day in range(days):
        day_start = since + timedelta(days=day)
        day_end = day_start + timedelta(days=1)
        made = generate(targets, day_start, day_end, episodes=trouble, seed=day)
        for batch in batched(made, BATCH):
            total += len(batch)
            if batch[0].ts >= raw_from:
                results.record(store, batch)
            else:
                with store.session() as session:
                    rollup_write.add(session, batch, grains=(rollups.HOUR, rollups.DAY))
        retention.prune(store, day_end, raw=RAW_DAYS * 86400)
        rate = total / (time.perf_counter() - started)
        print(f"  seeded day {day + 1}/{days}: {total:,} results ({rate:,.0f}/s)", flush=True)
    return total


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--targets", type=int, default=200)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--db", default=os.path.join(tempfile.gettempdir(), "brownout-bench.db"))
    parser.add_argument("--reseed", action="store_true")
    parser.add_argument("--seed-only", action="store_true")
    parser.add_argument("--write-docs", action="store_true", help="update docs/benchmarks.md")
    parser.add_argument(
        "--python-scan",
        action="store_true",
        help="also time a naive report streaming the raw results into Python (~10 min)",
    )
    args = parser.parse_args(argv)
    targets = fleet(args.targets)
    meta = Path(args.db + ".meta")
    wanted = f"{args.targets} {args.days}"
    fresh = args.reseed or not meta.exists() or meta.read_text().split("|")[0] != wanted
    if fresh:
        for suffix in ("", "-wal", "-shm", ".meta"):
            Path(args.db + suffix).unlink(missing_ok=True)
        now = datetime.now(UTC).replace(second=0, microsecond=0)
        store = open_store(f"sqlite:///{args.db}")
        print(f"seeding {args.days} days × {args.targets} targets into {args.db}", flush=True)
        t0 = time.perf_counter()
        seen = seed(store, targets, args.days, now)
        store.close()
        _checkpoint(args.db)
        meta.write_text(f"{wanted}|{now.isoformat()}|{seen}|{time.perf_counter() - t0:.0f}")
    if args.seed_only:
        return 0
    from bench._dashboard_measure import measure

    _, now_text, seen_text, seed_s = meta.read_text().split("|")
    return measure(
        args.db, targets, datetime.fromisoformat(now_text), int(seen_text), float(seed_s), args
    )


def _checkpoint(db: str) -> None:
    """Fold the WAL into the database file, so its size is the database's."""
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")


if __name__ == "__main__":
    raise SystemExit(main())
