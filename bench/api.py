"""The HTTP API over a long history: how long each endpoint takes, over real HTTP on loopback.

    .venv/bin/python -m bench.api [--targets 10] [--every 60s] [--days 7] [--db PATH]

Seeds `days` of probes for `targets` targets (one every `every`, ending now) through
`results.record` (rollups kept as in production), serves the API on 127.0.0.1, and times each
endpoint (median of 5 calls; `/metrics` also its first scrape, which sums the last day).
Goals: every read under 1 s, the first scrape under 5 s.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path

import httpx

from monitor.api.server import build_app, serve
from monitor.config import Config
from monitor.durations import parse_duration
from monitor.result import Outcome, ProbeResult, utcnow
from monitor.store import Store, open_store, results

OUTCOMES = [Outcome.OK] * 95 + [
    Outcome.TIMEOUT,
    Outcome.OVERLOADED,
    Outcome.RATE_LIMITED,
    Outcome.SERVER_ERROR,
    Outcome.WRONG_ANSWER,
]


def seed(store: Store, names: list[str], every: float, days: float) -> int:
    rng = random.Random(1)
    end = utcnow()
    steps = int(days * 86400 / every)
    batch: list[ProbeResult] = []
    n = 0
    for step in range(steps):
        ts = end - timedelta(seconds=(steps - step) * every)
        for name in names:
            provider, _, model = name.partition("/")
            outcome = rng.choice(OUTCOMES)
            answered = outcome.answered
            batch.append(
                ProbeResult(
                    ts=ts,
                    target=name,
                    provider=provider,
                    model=model,
                    canary="arithmetic",
                    outcome=outcome,
                    ttft_ms=rng.lognormvariate(5.8, 0.4) if answered else None,
                    latency_ms=rng.lognormvariate(6.4, 0.4) if answered else None,
                    tokens_per_s=rng.uniform(30, 120) if answered else None,
                    quality_ok=outcome is Outcome.OK if answered else None,
                    output_tokens=3 if answered else None,
                    cost_usd=4e-6 if answered else None,
                )
            )
        if len(batch) >= 5000:
            n += results.record(store, batch)
            batch = []
    return n + results.record(store, batch)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--targets", type=int, default=10)
    parser.add_argument("--every", default="60s")
    parser.add_argument("--days", type=float, default=7)
    parser.add_argument("--db")
    args = parser.parse_args()
    path = args.db or str(Path(tempfile.mkdtemp()) / "bench.db")
    store = open_store(f"sqlite:///{path}")
    names = [f"p{i % 4}/model-{i}" for i in range(args.targets)]
    started = time.perf_counter()
    n = seed(store, names, parse_duration(args.every), args.days)
    print(
        f"seeded {n} results ({args.targets} targets, {args.days:g} days, every {args.every}) "
        f"in {time.perf_counter() - started:.1f} s"
    )
    config = Config.model_validate({"families": {"all": names}})
    app = build_app(store, config, token="")
    ports: list[int] = []
    ready = threading.Event()
    loop = asyncio.new_event_loop()

    def on_ready(port: int) -> None:
        ports.append(port)
        ready.set()

    task = loop.create_task(serve(app, "127.0.0.1", 0, ready=on_ready))
    thread = threading.Thread(
        target=lambda: loop.run_until_complete(asyncio.gather(task, return_exceptions=True))
    )
    thread.start()
    ready.wait()
    base = f"http://127.0.0.1:{ports[0]}"
    worst, failed = 0.0, False
    with httpx.Client(base_url=base, timeout=120) as client:
        client.get("/healthz").raise_for_status()  # warm up: connections, imports
        t0 = time.perf_counter()
        client.get("/metrics").raise_for_status()
        first = time.perf_counter() - t0
        print(f"{'/metrics (first scrape: the last day in SQL)':58} {first * 1000:8.1f} ms")
        failed |= first > 5
        target = names[0]
        for path in (
            "/metrics",
            "/api/status",
            "/api/route?family=all",
            "/api/incidents?since=7d",
            f"/api/targets/{target}/history?since=24h&step=5m",
            f"/api/targets/{target}/history?since=7d&step=1h",
            f"/badge/{target}.svg",
            f"/badge/{target}/uptime.svg?window=30d",
        ):
            times = []
            for _ in range(5):
                t0 = time.perf_counter()
                client.get(path).raise_for_status()
                times.append(time.perf_counter() - t0)
            median = statistics.median(times)
            worst = max(worst, median)
            print(f"{path:58} {median * 1000:8.1f} ms")
    loop.call_soon_threadsafe(task.cancel)
    thread.join()
    failed |= worst > 1
    print("goals met" if not failed else "GOAL MISSED: a read over 1 s or a first scrape over 5 s")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
