"""Reports and exports at scale: a 90-day report over rollups, and a streamed export's memory.

    .venv/bin/python -m bench.reports [--targets 10] [--every 5m] [--days 90] [--db PATH]

Seeds `days` of probes for `targets` targets (one every `every`) through `results.record` (so
rollups are kept as in production), then times `brownout report` over the whole range in each
format, and `brownout export` of every row in each format, each in its own process so its peak
resident memory (ru_maxrss) is its own. Goals: a 90-day report in well under 10 s; export memory
flat in the row count (compare two runs with different `--days`).
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from monitor.config import Config
from monitor.durations import parse_duration
from monitor.reports import build_report
from monitor.result import Outcome, ProbeResult
from monitor.store import open_store, results

END = datetime(2026, 11, 28, tzinfo=UTC)


def seed(url: str, targets: int, every: float, days: int) -> int:
    store = open_store(url)
    rng = random.Random(1)
    names = [f"p{i % 4}/model-{i}" for i in range(targets)]
    start = END - timedelta(days=days)
    steps = int(days * 86400 / every)
    batch: list[ProbeResult] = []
    n = 0
    for step in range(steps):
        ts = start + timedelta(seconds=step * every)
        for name in names:
            provider, _, model = name.partition("/")
            bad = rng.random() < 0.02
            batch.append(
                ProbeResult(
                    ts=ts,
                    target=name,
                    provider=provider,
                    model=model,
                    canary="arithmetic",
                    outcome=Outcome.TIMEOUT if bad else Outcome.OK,
                    ttft_ms=None if bad else rng.lognormvariate(5.5, 0.4),
                    latency_ms=None if bad else rng.lognormvariate(6.2, 0.4),
                    tokens_per_s=None if bad else rng.uniform(20, 120),
                    quality_ok=None if bad else rng.random() < 0.99,
                    input_tokens=21,
                    output_tokens=None if bad else 2,
                    cost_usd=0.0000044,
                    answer=None if bad else "391",
                    error="timed out after 30s" if bad else None,
                )
            )
        if len(batch) >= 20_000:
            n += results.record(store, batch)
            batch = []
    n += results.record(store, batch)
    store.close()
    return n


_CHILD = (
    "import resource, sys; from monitor.cli import main; code = main(sys.argv[1:]); "
    "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr); sys.exit(code)"
)


def timed(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Seconds and peak resident MiB of one `brownout` command in its own process."""
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, *argv],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    seconds = time.perf_counter() - start
    return seconds, int(done.stderr.strip().splitlines()[-1]) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--targets", type=int, default=10)
    parser.add_argument("--every", default="5m")
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--db", help="reuse (or create) this SQLite file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(args.db or f"{tmp}/bench.db")
        url = f"sqlite:///{path}"
        if not path.exists():
            start = time.perf_counter()
            n = seed(url, args.targets, parse_duration(args.every), args.days)
            print(f"seeded {n:,} probes in {time.perf_counter() - start:.1f}s")
        store = open_store(url)
        start, end = END - timedelta(days=args.days), END
        began = time.perf_counter()
        report = build_report(store, Config(), start, end)
        print(
            f"build_report {args.days}d in-process: {time.perf_counter() - began:.2f}s "
            f"({report.fleet.probes:,} probes, {len(report.targets)} targets, {report.source})"
        )
        store.close()
        env = {**os.environ, "BROWNOUT_DB": url}
        env.pop("BROWNOUT_CONFIG", None)
        since = (END - timedelta(days=args.days)).date().isoformat()
        until = END.date().isoformat()
        for fmt in ("md", "html", "json", "csv"):
            seconds, mib = timed(
                [
                    "report",
                    "--since",
                    since,
                    "--until",
                    until,
                    "--format",
                    fmt,
                    "-o",
                    f"{tmp}/r.{fmt}",
                ],
                env,
            )
            print(f"report {args.days}d {fmt:>5}: {seconds:6.2f}s, peak RSS {mib:4.0f} MiB")
        for fmt in ("jsonl", "csv", "parquet"):
            out = Path(f"{tmp}/e.{fmt}")
            seconds, mib = timed(
                ["export", "--since", since, "--until", until, "--format", fmt, "-o", str(out)], env
            )
            print(
                f"export {args.days}d {fmt:>7}: {seconds:6.2f}s, peak RSS {mib:4.0f} MiB, "
                f"{out.stat().st_size / 2**20:6.1f} MiB file"
            )


if __name__ == "__main__":
    main()
