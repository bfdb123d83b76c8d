"""The measuring half of `bench.dashboard`: sizes, the page's data per range, the 90-day report
from rollups against plain scans of the raw results. Prints the figures; with `--write-docs`,
replaces this benchmark's section of docs/benchmarks.md."""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import time
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from dashboard import data
from monitor.config import Config
from monitor.config.schema import StorageConfig
from monitor.store import open_store, results, rollups
from monitor.store.rollups import DAY, HOUR, MINUTE

DOCS = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"
NOTES = """\
- *Page data* is `dashboard.data.load` for all 200 targets: banner statuses, uptime over four
  windows, the 90-day bars (18,000 cells), the chart series, incidents, the transfer switch and
  the newest probes; rendering is the browser's. The seeded history has no detection run over it,
  so statuses come from the plain rule over the last minutes' rollups (with detection they are
  read from its table, which is cheaper still). Two answers are kept between refreshes, as on
  the page: the day rows before yesterday (they no longer change; the first call in a fresh
  process reads them) and the transfer switch's answer for 30 s (its cost is the line after).
- Bytes per result: the database file over every result the 90 days produced. Raw results and
  their two indexes are ~90 % of it; rollups ~10 %.
- The raw scans can only cover the 30 days retention keeps; over 90 days they would take about
  three times as long, the rollups barely longer (90-day line above).
- `brownout report --since 90d` reads the same rollups but builds its fuller figures in Python;
  the 90-day line above is the page-style aggregate."""
BEGIN, END = "<!-- bench.dashboard -->", "<!-- /bench.dashboard -->"


def _time(fn: Callable[[], Any], repeat: int = 1) -> tuple[float, Any]:
    """(median seconds over `repeat` runs, the last result)."""
    times, value = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        value = fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times), value


def sizes(db: str) -> dict[str, Any]:
    with sqlite3.connect(db) as conn:
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        free = conn.execute("PRAGMA freelist_count").fetchone()[0]
        raw = conn.execute("SELECT count(*) FROM probe_results").fetchone()[0]
        grains = dict(conn.execute("SELECT grain, count(*) FROM rollups GROUP BY grain").fetchall())
        try:
            tables = dict(
                conn.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name").fetchall()
            )
        except sqlite3.OperationalError:  # SQLite built without dbstat
            tables = {}
    return {
        "file": os.path.getsize(db),
        "used": (pages - free) * page_size,
        "raw_rows": raw,
        "rollup_rows": {g: grains.get(g, 0) for g in (MINUTE, HOUR, DAY)},
        "tables": tables,
    }


def raw_sql_scan(db: str, since: datetime) -> dict[str, tuple[int, int, float]]:
    """The plain scan: every raw result since `since`, aggregated by SQLite itself."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        rows = conn.execute(
            "SELECT target, count(*), sum(outcome NOT IN ('ok', 'wrong_answer', 'rate_limited')),"
            " avg(latency_ms) FROM probe_results WHERE ts >= ? GROUP BY target",
            (since.strftime("%Y-%m-%d %H:%M:%S"),),
        ).fetchall()
    return {r[0]: (r[1], r[2], r[3]) for r in rows}


def raw_python_scan(url: str, since: datetime, until: datetime) -> dict[str, Any]:
    """The naive report: stream every raw result and aggregate (with exact p95) in Python."""
    store = open_store(url, readonly=True)
    latencies: dict[str, list[float]] = defaultdict(list)
    counts: dict[str, int] = defaultdict(int)
    for r in results.between(store, since, until):
        counts[r.target] += 1
        if r.outcome.answered and r.latency_ms is not None:
            latencies[r.target].append(r.latency_ms)
    store.close()
    return {
        t: (counts[t], sorted(v)[int(0.95 * len(v))] if v else None) for t, v in latencies.items()
    }


def report_from_rollups(store: Any, since: datetime, until: datetime) -> dict[str, Any]:
    got = rollups.summary(store, since, until)
    return {
        t: (a.n, a.uptime, a.percentile("lat", 0.5), a.percentile("lat", 0.95))
        for t, a in got.items()
    }


def measure(
    db: str, targets: list[str], now: datetime, seen: int, seed_s: float, args: argparse.Namespace
) -> int:
    url = f"sqlite:///{db}"
    size = sizes(db)
    store = open_store(url, readonly=True)
    config = Config(storage=StorageConfig(url=url))
    lines = [
        f"history: {args.days} days × {args.targets} targets × 1/min = {seen:,} results "
        f"(seeded in {seed_s / 60:.0f} min)",
        f"kept: {size['raw_rows']:,} raw results (last 30 days), rollup rows "
        + ", ".join(f"{n:,} {g}s" for g, n in size["rollup_rows"].items()),
        f"database: {size['file'] / 1e9:.2f} GB on disk, {size['used'] / 1e9:.2f} GB in use → "
        f"{size['file'] / seen:.0f} bytes per result (goal ≤ 150)",
    ]
    if size["tables"]:
        lines.append(
            "  by table/index: "
            + ", ".join(
                f"{k} {v / 1e6:,.0f} MB"
                for k, v in sorted(size["tables"].items(), key=lambda kv: -kv[1])
                if v > 1e6
            )
        )
    first, _ = _time(lambda: data.load(store, config, now, range_key="24h"))
    lines.append(f"page data, first call in a fresh process (24h): {first * 1000:,.0f} ms")
    lines.append("page data, all targets, median of 5 (ms): range: total [parts]")
    worst = 0.0
    for key in data.RANGES:
        took, page = _time(lambda key=key: data.load(store, config, now, range_key=key), repeat=5)
        worst = max(worst, took)
        parts = ", ".join(f"{k} {v * 1000:.0f}" for k, v in page.timings.items())
        lines.append(f"  {key:>4}: {took * 1000:6,.0f}  [{parts}]")
    one, _ = _time(
        lambda: data.load(store, config, now, range_key="7d", providers=["openai"]), repeat=5
    )
    lines.append(
        f"  7d, one provider's {len(data.select(targets, ['openai'], None))} targets: {one * 1000:,.0f}"
    )
    lines.append(f"page data worst case: {worst * 1000:,.0f} ms (goal < 1000)")
    uncached = []
    for _ in range(3):
        data._route_cache.clear()
        uncached.append(_time(lambda: data.ranking(store, config, now))[0])
    switch = statistics.median(uncached)
    lines.append(
        f"  + the transfer switch when its {data.ROUTE_TTL:.0f} s answer has expired (monitor.route "
        f"reads 15 min of raw results): {switch * 1000:,.0f} ms → worst case with it "
        f"{(worst + switch) * 1000:,.0f} ms"
    )

    since90, since30 = now - timedelta(days=90), now - timedelta(days=30)
    r90, _ = _time(lambda: report_from_rollups(store, since90, now), repeat=3)
    r30, _ = _time(lambda: report_from_rollups(store, since30, now), repeat=3)
    sql30, _ = _time(lambda: raw_sql_scan(db, since30))
    lines.append(
        f"90-day report (per target: probes, uptime, p50, p95) from rollups: {r90 * 1000:,.0f} ms"
    )
    lines.append(f"30-day report from rollups: {r30 * 1000:,.0f} ms")
    lines.append(
        f"plain SQL scan of the {size['raw_rows']:,} raw results (30 days kept; the 60 older days "
        f"are gone by retention): {sql30:,.1f} s → {sql30 / r30:,.0f}× the rollups over the same 30 days"
    )
    try:
        from monitor.reports.build import build_report

        full, _ = _time(lambda: build_report(store, config, since90, now, now=now))
        lines.append(
            f"`brownout report --since 90d` (monitor.reports, all {len(targets)} targets): {full:,.2f} s"
        )
    except ImportError:
        pass
    if args.python_scan:
        py30, _ = _time(lambda: raw_python_scan(url, since30, now))
        lines.append(
            f"naive Python report streaming the raw results (30 days): {py30:,.1f} s → "
            f"{py30 / r30:,.0f}× the rollups"
        )
    store.close()
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    lines.append(f"load average while measuring (1, 5, 15 min): {load} on {os.cpu_count()} CPUs")
    text = "\n".join(lines)
    print(text)
    if args.write_docs:
        write_docs(text, args)
    return 0


def write_docs(text: str, args: argparse.Namespace) -> None:
    import platform

    section = (
        f"{BEGIN}\n## Status page on a long history (`bench/dashboard.py`)\n\n"
        f"`.venv/bin/python -m bench.dashboard --python-scan --write-docs` on {platform.machine()}, "
        f"{os.cpu_count()} CPUs, SQLite {sqlite3.sqlite_version}, "
        f"{datetime.now().strftime('%Y-%m-%d')}. Seeded through the production write path "
        "(see the module docstring: the last 30 days through `results.record`, older days "
        "through its rollup half, `rollup_write.add`, as retention leaves them).\n\n"
        f"```\n{text}\n```\n\n{NOTES}\n{END}\n"
    )
    old = DOCS.read_text() if DOCS.exists() else "# Benchmarks\n"
    if BEGIN in old and END in old:
        new = old[: old.index(BEGIN)] + section + old[old.index(END) + len(END) + 1 :]
    else:
        new = old.rstrip("\n") + "\n\n" + section
    DOCS.write_text(new)
    print(f"wrote {DOCS}")
