"""Isolation: do busy neighbours delay healthy targets' probes or inflate their TTFT?

    .venv/bin/python -m bench.isolation [--seconds 40] [--healthy 20] [--hostile 10]

Three real `brownout run --http` subprocesses in turn, each probing `--healthy` targets every
second (no jitter) against the simulator (its own process), each for `--seconds`:

1. alone (the baseline);
2. with 200 concurrent API requests in a loop (`/api/status`, `/metrics`, `/healthz`) from a
   separate process;
3. beside `--hostile` targets whose replies are large (a 400 KB answer in one burst of events
   to parse), garbage, or a gzip bomb (1 GiB of zeros in ~1 MB).

For the healthy targets it prints the probe gap's excess over the interval (p50/p99: how late
each probe started after the one before) and TTFT p50/p99 from the stored results, and each
loaded run's ratio to the baseline. 1.0 means the neighbours cost the healthy probes nothing.
"""

from __future__ import annotations

import argparse
import itertools
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import httpx

from bench._sim import free_port, machine, percentile, simulator

HAMMER = """
import asyncio, sys, httpx
async def main(base, n):
    paths = ["/api/status", "/metrics", "/healthz"]
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=httpx.Limits(max_connections=n)) as c:
        async def loop(i):
            while True:
                try:
                    await c.get(paths[i % 3])
                except httpx.HTTPError:
                    await asyncio.sleep(0.1)
        await asyncio.gather(*(loop(i) for i in range(n)))
asyncio.run(main(sys.argv[1], int(sys.argv[2])))
"""


def _config(tmp: Path, url: str, healthy: int, hostile: int) -> Path:
    models = [f"healthy{i:02d}" for i in range(healthy)] + [
        f"hostile{i:02d}" for i in range(hostile)
    ]
    path = tmp / f"probes-{hostile}.yaml"
    path.write_text(
        f"""\
storage:
  url: sqlite:///{tmp}/iso-{time.monotonic_ns()}.db
schedule:
  interval: 1s
  timeout: 10s
  jitter: 0
providers:
  sim:
    kind: openai
    base_url: {url}/v1
    api_key: bench-key-not-a-secret-0000
    models: [{", ".join(models)}]
canaries:
  - name: arithmetic
    prompt: "What is 17 * 23? Reply with the number only."
    expect: {{equals: "391"}}
"""
    )
    return path


def _run(config: Path, seconds: float, api_load: int) -> dict[str, list[float]]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("BROWNOUT_")}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "monitor",
            "run",
            "--config",
            str(config),
            "--http",
            f"127.0.0.1:{port}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    hammer = None
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
                break
            except httpx.HTTPError:
                time.sleep(0.2)
        if api_load:
            hammer = subprocess.Popen(
                [sys.executable, "-c", HAMMER, f"http://127.0.0.1:{port}", str(api_load)]
            )
        time.sleep(seconds)
    finally:
        if hammer is not None:
            hammer.kill()
            hammer.wait()
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=120)
    from monitor.config import load_config
    from monitor.store import open_store, results

    store = open_store(load_config(str(config)).storage.url)
    by_target: dict[str, list[tuple[float, float | None]]] = defaultdict(list)
    for r in results.between(store):
        if r.model.startswith("healthy"):
            by_target[r.target].append((r.ts.timestamp(), r.ttft_ms))
    store.close()
    gaps, ttft = [], []
    for rows in by_target.values():
        rows = rows[3:]  # the first seconds: start-up
        gaps += [1000 * (b[0] - a[0] - 1.0) for a, b in itertools.pairwise(rows)]
        ttft += [t for _, t in rows if t is not None]
    return {"gap": gaps, "ttft": ttft}


def _line(name: str, figures: dict[str, list[float]], base: dict[str, list[float]] | None) -> str:
    def p(values: list[float], q: float) -> float:
        return statistics.median(values) if q == 50 else percentile(values, q)

    parts = [f"{name:<22}"]
    for key in ("gap", "ttft"):
        values = figures[key]
        p50, p99 = p(values, 50), p(values, 99)
        text = f"{key} p50 {p50:7.1f} ms p99 {p99:7.1f} ms"
        if base is not None:
            text += f" (p99 ×{p99 / max(p(base[key], 99), 1e-9):.2f})"
        parts.append(text)
    parts.append(f"n={len(figures['ttft'])}")
    return "   ".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=40.0)
    parser.add_argument("--healthy", type=int, default=20)
    parser.add_argument("--hostile", type=int, default=10)
    parser.add_argument("--api-load", type=int, default=200)
    args = parser.parse_args()
    big = " ".join(["token"] * 80_000)  # ~400 KB, every token at once
    large = {"answer": big, "tokens_per_s": 0}
    scenario = {
        "name": "isolation",
        "defaults": {"ttft": "50ms", "tokens_per_s": 1000},
        "models": {
            # One dict for every large answer: YAML writes it once, with aliases (a scenario
            # file is bounded at 1 MB).
            **dict.fromkeys((f"hostile{i:02d}" for i in range(0, args.hostile, 2)), large),
            **{f"hostile{i:02d}": {"error": "garbage"} for i in range(1, args.hostile, 4)},
            **{f"hostile{i:02d}": {"error": "gzip_bomb"} for i in range(3, args.hostile, 4)},
            "*": {},
        },
    }
    print(f"{args.healthy} healthy targets every 1 s, {args.seconds:g} s per run\n{machine()}")
    with tempfile.TemporaryDirectory(prefix="brownout-iso-") as tmp, simulator(scenario) as url:
        quiet = _config(Path(tmp), url, args.healthy, 0)
        base = _run(quiet, args.seconds, 0)
        print(_line("alone", base, None))
        if args.api_load:  # --api-load 0: only the hostile targets' run
            loaded = _run(_config(Path(tmp), url, args.healthy, 0), args.seconds, args.api_load)
            print(_line(f"+{args.api_load} API requests", loaded, base))
        hostile = _run(_config(Path(tmp), url, args.healthy, args.hostile), args.seconds, 0)
        print(_line(f"+{args.hostile} hostile targets", hostile, base))
    print(f"after: {machine()}")


if __name__ == "__main__":
    main()
