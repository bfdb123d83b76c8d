"""Load and cost: the whole monitor (`serve_monitor`: scheduler, probes, pipeline thread, SQLite,
detection) probing N targets every INTERVAL against the simulator in its own process.

    .venv/bin/python -m bench.load [--targets 2000] [--interval 30] [--minutes 10]
                                   [--shards N] [--ttft 0.2] [--no-baseline] [--pool-bench]
                                   [--history HOURS]

Prints one table, over the measured window (after one interval of warm-up): the monitor
process's CPU (% of one core, and per probe; and by thread: the event loop, the pipeline thread,
the others) and RSS (peak), probe lateness against the schedule
(result `ts` minus the run time APScheduler planned, jitter included) p50/p99/max, results stored
per second against results due, and the database's growth per day; beside them the same figures
of a bare client (`bench._bare_load`: the monitor's HTTP client firing the same requests on the
same schedule, nothing else) run in its own process during the same window, and the ratios.
On a shared machine the ratios say more than the figures. `--shards N` sets how many connection pools
the client has; `--pool-bench` times httpcore's pool bookkeeping against its connection count,
one pool against sharded pools, in the same run.
`--history HOURS` first stores that many hours of healthy results of every target, as a monitor
that has run that long leaves them: the monitor starts by replaying them (detection's restore,
timed and printed), so its baselines are as full as after those hours of probing, and the RSS
is that of a monitor that has been running, not of one just started.
The goals: CPU < 25 %, RSS < 200 MB, lateness p99 < 1 s, stored = due.
"""

from __future__ import annotations

import argparse
import asyncio
import contextvars
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from bench._sim import machine, percentile, simulator

MONITORS: list[Any] = []
TIMELINE: list[tuple[float, float]] = []
SCHEDULED: contextvars.ContextVar[datetime | None] = contextvars.ContextVar(
    "scheduled", default=None
)


def _instrument(lateness: list[float]) -> None:
    """Record each probe's lateness: APScheduler's planned run time is kept in a context
    variable by the executor's job wrapper and read when the probe's batch is handed over."""
    import apscheduler.executors.asyncio as executor

    from monitor.runner import Monitor

    original = executor.run_coroutine_job

    async def run_coroutine_job(job: Any, alias: str, run_times: list[datetime], name: str) -> Any:
        SCHEDULED.set(run_times[-1])
        return await original(job, alias, run_times, name)

    executor.run_coroutine_job = run_coroutine_job
    submit = Monitor.submit

    def timed_submit(self: Monitor, batch: Any) -> None:
        MONITORS[:] = [self]
        planned = SCHEDULED.get()
        if planned is not None and batch:
            late = (batch[0].ts - planned).total_seconds()
            lateness.append(late)
            TIMELINE.append((time.monotonic(), late))
        submit(self, batch)

    Monitor.submit = timed_submit  # type: ignore[method-assign]


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _thread_cpu() -> dict[str, float]:
    """CPU seconds of this process's live threads, by role: `loop` (the main thread, which runs
    the event loop), `pipeline` (the writer's thread); the rest of the process's CPU (other
    threads, live or gone) is `others` in the report."""
    import threading

    names = {t.native_id: t.name for t in threading.enumerate()}
    main = threading.main_thread().native_id
    tick = os.sysconf("SC_CLK_TCK")
    out = {"loop": 0.0, "pipeline": 0.0}
    for task in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{task}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        seconds = (int(fields[11]) + int(fields[12])) / tick  # utime + stime
        tid = int(task)
        if tid == main:
            out["loop"] += seconds
        elif names.get(tid) == "brownout-pipeline":
            out["pipeline"] += seconds
    return out


def _db_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*") if p.is_file())


def _seed_history(store: Any, targets: int, interval: float, hours: float) -> int:
    """Store `hours` of healthy results of each target, one every `interval`, ending now: the
    simulator's figures with log-normal noise, as `_config_text`'s targets would have them."""
    import random
    from datetime import UTC, timedelta

    from sqlalchemy import insert

    from monitor.result import Outcome, ProbeResult
    from monitor.store.results import _FIELDS, ProbeRow

    table = ProbeRow.__table__  # type: ignore[attr-defined]
    rng = random.Random(13)
    rounds = int(hours * 3600 / interval)
    now = datetime.now(UTC)
    rows: list[dict[str, Any]] = []
    written = 0
    with store.engine.begin() as conn:
        for k in range(rounds):
            ts = now - timedelta(seconds=(rounds - k) * interval)
            for i in range(targets):
                ttft = 200.0 * rng.lognormvariate(0, 0.1)
                latency = ttft + 15.0 * rng.lognormvariate(0, 0.1)
                result = ProbeResult(
                    ts=ts + timedelta(seconds=i * interval / targets),
                    target=f"sim/load{i:05d}",
                    provider="sim",
                    model=f"load{i:05d}",
                    canary="arithmetic",
                    outcome=Outcome.OK,
                    http_status=200,
                    ttft_ms=round(ttft, 3),
                    latency_ms=round(latency, 3),
                    input_tokens=20,
                    output_tokens=3,
                    tokens_per_s=round(2 / ((latency - ttft) / 1000), 3),
                    quality_ok=True,
                    answer="391",
                    response_model=f"load{i:05d}",
                )
                rows.append({name: getattr(result, name) for name in _FIELDS})
                if len(rows) >= 20_000:
                    conn.execute(insert(table), rows)
                    written += len(rows)
                    rows.clear()
        if rows:
            conn.execute(insert(table), rows)
            written += len(rows)
    return written


def _time_restore(timings: list[float], done: threading.Event) -> None:
    """Record how long detection's restore (the replay of stored results at start) takes."""
    from monitor.pipeline.detection import DetectionService

    restore = DetectionService.restore

    def timed(self: DetectionService, *args: Any, **kwargs: Any) -> None:
        t0, cpu0 = time.monotonic(), time.thread_time()
        restore(self, *args, **kwargs)
        timings.append(time.monotonic() - t0)
        timings.append(time.thread_time() - cpu0)
        done.set()

    DetectionService.restore = timed  # type: ignore[method-assign]


def _config_text(url: str, db: Path, targets: int, interval: float, concurrency: int) -> str:
    models = "\n".join(f"      - load{i:05d}" for i in range(targets))
    return f"""\
storage:
  url: sqlite:///{db}
schedule:
  interval: {interval}s
  timeout: 10s
  jitter: 0.1
  max_concurrency: {concurrency}
providers:
  sim:
    kind: openai
    base_url: {url}/v1
    api_key: bench-key-not-a-secret-0000
    models:
{models}
canaries:
  - name: arithmetic
    prompt: "What is 17 * 23? Reply with the number only."
    expect: {{equals: "391"}}
"""


async def _pool_round(url: str, workers: int, seconds: float, shards: int) -> float:
    """Client CPU ms per request with `workers` streams in a tight loop over one client."""
    from bench._sim import bare_request, config_for
    from monitor.runner import make_client

    config = config_for(url, [f"pool{i:04d}" for i in range(workers)], ["openai"],
                        max_concurrency=workers)  # fmt: skip
    targets = config.targets()
    done = 0
    async with make_client(config, shards=shards) as client:

        async def loop(target: Any, until: float) -> None:
            nonlocal done
            request = bare_request(target, "What is 17 * 23?", 16)
            while time.monotonic() < until:
                url_, headers, body = request
                async with client.stream("POST", url_, content=body, headers=headers) as r:
                    async for _ in r.aiter_bytes():
                        pass
                done += 1

        await asyncio.gather(*(loop(t, time.monotonic() + 1.0) for t in targets))  # warm-up
        done, cpu = 0, time.process_time()
        await asyncio.gather(*(loop(t, time.monotonic() + seconds) for t in targets))
        return 1000 * (time.process_time() - cpu) / max(done, 1)


def pool_bench(seconds: float) -> None:
    """httpcore's cost per request against its pool's size: one pool, pools of 32 connections
    (the client before issue 13's work) and of `POOL_CONNECTIONS` (now), in the same run."""
    from monitor.http_pool import POOL_CONNECTIONS, shards_for

    print(f"pool bench: client CPU ms per request, {seconds:g} s per round\n{machine()}")
    print(f"| streams (connections allowed) | one pool | 32 per pool | {POOL_CONNECTIONS} per pool "
          "| one ÷ now |\n| --- | --- | --- | --- | --- |")  # fmt: skip
    with simulator({"name": "pool", "defaults": {"ttft": "0ms", "tokens_per_s": 0}}) as url:
        for workers in (32, 128, 512):
            allowed = 2 * workers
            one = asyncio.run(_pool_round(url, workers, seconds, 1))
            old = asyncio.run(_pool_round(url, workers, seconds, shards_for(allowed, 32)))
            now = asyncio.run(_pool_round(url, workers, seconds, shards_for(allowed)))
            print(f"| {workers} ({allowed}) | {one:.2f} ms | {old:.2f} ms | {now:.2f} ms "
                  f"({shards_for(allowed)} pools) | {one / now:.1f} |", flush=True)  # fmt: skip
    print(machine())


async def _run(
    args: argparse.Namespace, config_path: Path, db: Path, start_bare: Callable[[], None]
) -> dict[str, Any]:
    import functools

    import monitor.commands.run as run_command
    from monitor.commands.run import serve_monitor
    from monitor.config import load_config
    from monitor.store import open_store, results

    if args.shards is not None:
        run_command.make_client = functools.partial(run_command.make_client, shards=args.shards)
    config = load_config(str(config_path))
    store = open_store(config.storage.url)
    lateness: list[float] = []
    _instrument(lateness)
    samples: dict[str, Any] = {}
    restore: list[float] = []
    restored = threading.Event()
    _time_restore(restore, restored)
    if args.history:
        t0 = time.monotonic()
        seeded = _seed_history(store, args.targets, args.interval, args.history)
        samples["seeded"] = (seeded, time.monotonic() - t0)
        print(f"history: {seeded:,} results stored in {time.monotonic() - t0:.0f} s", flush=True)
    stop = asyncio.Event()
    window = args.minutes * 60.0

    async def measure() -> None:
        await asyncio.to_thread(restored.wait, 3600)  # detection replays the history first
        start_bare()  # its warm-up and window then match this one
        samples["restore"] = tuple(restore)
        await asyncio.sleep(args.interval)  # warm-up: every target has started
        rss = [_rss_mb()]
        lateness.clear()
        TIMELINE.clear()
        start_rows, start_bytes = results.count(store), _db_bytes(db)
        cpu0, t0, threads0 = time.process_time(), time.monotonic(), _thread_cpu()
        while time.monotonic() - t0 < window:
            await asyncio.sleep(5)
            rss.append(_rss_mb())
        elapsed, cpu = time.monotonic() - t0, time.process_time() - cpu0
        threads = {k: v - threads0[k] for k, v in _thread_cpu().items()}
        threads["others"] = max(0.0, cpu - sum(threads.values()))
        stored = results.count(store) - start_rows
        samples["backlog"] = MONITORS[0].writer.state()["backlog"]["results"] if MONITORS else 0
        samples.update(
            elapsed=elapsed,
            cpu=cpu,
            threads=threads,
            rss=rss,
            stored=stored,
            growth=_db_bytes(db) - start_bytes,
            lateness=list(lateness),
        )
        stop.set()

    task = asyncio.create_task(measure())
    await serve_monitor(config, store, stop=stop, grace=5.0)
    await task
    store.close()
    return samples


def _bare(url: str, args: argparse.Namespace) -> subprocess.Popen[bytes]:
    """The same-run baseline (`bench._bare_load`), started beside the monitor."""
    return subprocess.Popen(
        [sys.executable, "-m", "bench._bare_load", url, str(args.targets), str(args.interval),
         str(args.interval), str(args.minutes * 60), str(args.max_concurrency)],
        stdout=subprocess.PIPE,
    )  # fmt: skip


def _row(figure: str, goal: str, monitor: str, bare: str = "", ratio: str = "") -> str:
    return f"| {figure} | {goal} | {monitor} | {bare} | {ratio} |"


def _ms(values: list[float], q: float) -> float:
    return 1000 * (statistics.median(values) if q == 50 else percentile(values, q))


def report(args: argparse.Namespace, s: dict[str, Any], bare: dict[str, Any] | None,
           before: str, after: str) -> str:  # fmt: skip
    """Every figure issue 13 asks for, in one Markdown table, beside the bare client's."""
    due = args.targets / args.interval
    late, elapsed = s["lateness"], s["elapsed"]
    per_day = s["growth"] / elapsed * 86400
    probes = max(len(late), 1)
    cpu_probe = 1000 * s["cpu"] / probes
    rows = [
        f"{args.targets} targets every {args.interval:g} s, {args.minutes:g} min measured "
        f"after {args.interval:g} s of warm-up, max_concurrency {args.max_concurrency}, "
        f"simulator TTFT {args.ttft * 1000:.0f} ms (its own process)",
        f"load average: before {before}; after {after}",
        "",
        _row("figure", "goal", "monitor", "bare client, same run", "monitor ÷ bare"),
        _row("---", "---", "---", "---", "---"),
    ]
    b_cpu = b_probe = None
    if bare is not None:
        b_cpu = 100 * bare["cpu"] / bare["elapsed"]
        b_probe = 1000 * bare["cpu"] / max(bare["requests"], 1)
    cpu = 100 * s["cpu"] / elapsed
    rows.append(_row("CPU, % of one core", "< 25 %", f"{cpu:.1f} %",
                     "" if b_cpu is None else f"{b_cpu:.1f} %",
                     "" if b_cpu is None else f"{cpu / max(b_cpu, 1e-9):.2f}"))  # fmt: skip
    rows.append(_row("CPU per probe", "", f"{cpu_probe:.2f} ms",
                     "" if b_probe is None else f"{b_probe:.2f} ms",
                     "" if b_probe is None else f"{cpu_probe / max(b_probe, 1e-9):.2f}"))  # fmt: skip
    for name, seconds in s["threads"].items():
        rows.append(_row(f"… {name} thread" if name != "others" else "… other threads", "",
                         f"{100 * seconds / elapsed:.1f} % ({1000 * seconds / probes:.2f} ms/probe)"))  # fmt: skip
    rows.append(_row("RSS, peak", "< 200 MB", f"{max(s['rss']):.0f} MB"))
    if s.get("seeded"):
        seeded, seconds = s["seeded"]
        rows.append(_row("history stored first", "", f"{seeded:,} results ({seconds:.0f} s)"))
    if s.get("restore"):
        wall, cpu = s["restore"]
        rows.append(_row("detection's restore at start", "", f"{wall:.1f} s ({cpu:.1f} s CPU)"))
    for q, goal in ((50, ""), (99, "< 1 s")):
        mine = _ms(late, q) if late else float("nan")
        theirs = _ms(bare["lateness"], q) if bare and bare["lateness"] else None
        rows.append(_row(f"lateness p{q}", goal, f"{mine:.0f} ms",
                         "" if theirs is None else f"{theirs:.0f} ms",
                         "" if theirs is None else f"{mine / max(theirs, 1.0):.2f}"))  # fmt: skip
    if late:
        rows.append(_row("lateness max", "", f"{max(late) * 1000:.0f} ms",
                         f"{max(bare['lateness']) * 1000:.0f} ms" if bare and bare["lateness"]
                         else ""))  # fmt: skip
    stored = s["stored"] / elapsed
    rows.append(_row("results stored per second", f"= due ({due:.1f})",
                     f"{stored:.1f} ({stored / due:.3f} of due; backlog {s['backlog']})",
                     "" if bare is None else f"{bare['requests'] / bare['elapsed']:.1f} requests/s"))  # fmt: skip
    rows.append(_row("database growth", "", f"{per_day / 2**30:.2f} GiB/day "
                     f"({s['growth'] / max(s['stored'], 1):.0f} B/result)"))  # fmt: skip
    if TIMELINE:
        t0, worst = TIMELINE[0][0], []
        for minute in range(int(args.minutes) or 1):
            part = [v for t, v in TIMELINE if minute * 60 <= t - t0 < (minute + 1) * 60]
            if part:
                worst.append(f"{percentile(part, 99):.1f}")
        rows += ["", f"lateness p99 per minute (s): {' '.join(worst)}"]
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--targets", type=int, default=2000)
    parser.add_argument("--interval", type=float, default=30.0)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--ttft", type=float, default=0.2, help="the simulator's TTFT, seconds")
    parser.add_argument("--max-concurrency", type=int, default=256, help="schedule.max_concurrency")
    parser.add_argument("--shards", type=int, help="connection pools (default: one per 32)")
    parser.add_argument("--no-baseline", action="store_true", help="skip the bare client")
    parser.add_argument("--pool-bench", action="store_true", help="time httpcore's pools only")
    parser.add_argument("--history", type=float, default=0.0, help="hours of stored history")
    args = parser.parse_args()
    if args.pool_bench:
        pool_bench(seconds=5.0)
        return
    scenario = {
        "name": "load",
        "defaults": {"ttft": f"{int(args.ttft * 1000)}ms", "tokens_per_s": 200},
    }
    before = machine()
    print(f"{args.targets} targets every {args.interval:g} s for {args.minutes:g} min; {before}")
    with tempfile.TemporaryDirectory(prefix="brownout-load-") as tmp, simulator(scenario) as url:
        db = Path(tmp) / "load.db"
        config_path = Path(tmp) / "probes.yaml"
        config_path.write_text(
            _config_text(url, db, args.targets, args.interval, args.max_concurrency)
        )
        started: list[subprocess.Popen[bytes]] = []

        def start_bare() -> None:
            if not args.no_baseline:
                started.append(_bare(url, args))

        s = asyncio.run(_run(args, config_path, db, start_bare))
        baseline = started[0] if started else None
        bare = None
        if baseline is not None:
            out, _ = baseline.communicate()
            bare = json.loads(out.decode().strip().splitlines()[-1])
    print(report(args, s, bare, before, machine()))


if __name__ == "__main__":
    main()
