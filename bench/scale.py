"""Several monitors on one PostgreSQL: results written per second by three regional monitors
beside one alone (same run, a ratio), and failover time over repeated SIGKILLs of the leader.

    .venv/bin/python -m bench.scale [--seconds 20] [--models 40] [--kills 10]

Every monitor is a real `brownout run` process probing the simulator (its own process) on
loopback; the database is a fresh schema on the local PostgreSQL (BROWNOUT_BENCH_PG), dropped
after. Failover time is from the SIGKILL to the lease row naming the next leader, read from the
database every 20 ms; the bound to compare with is two probe intervals.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, func, select, text

from bench._sim import machine, simulator
from monitor.store import lease, open_store
from monitor.store.tables import ProbeRow

PG = os.environ.get("BROWNOUT_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
FAST = {"name": "fast", "defaults": {"ttft": "5ms", "tokens_per_s": 5000}}


@contextmanager
def pg_schema() -> Iterator[str]:
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        yield f"{PG}?options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def write_config(path: Path, url: str, sim: str, models: int, interval: str) -> Path:
    names = ", ".join(f"m{i:03d}" for i in range(models))
    path.write_text(
        f"""\
storage:
  url: "{url}"
schedule:
  interval: {interval}
  timeout: 10s
  jitter: 0.5
providers:
  openai:
    kind: openai
    base_url: {sim}/v1
    api_key: sk-bench-not-a-secret
    models: [{names}]
canaries:
  - name: arithmetic
    prompt: "What is 17 * 23? Reply with the number only."
    expect: {{equals: "391"}}
"""
    )
    return path


def start(config: Path, log: Path, region: str) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BROWNOUT_")}
    return subprocess.Popen(
        [sys.executable, "-m", "monitor", "run", "--config", str(config), "--region", region],
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        env=env,
    )


def count(url: str, region: str | None = None) -> int:
    store = open_store(url)
    try:
        with store.session() as session:
            query = select(func.count()).select_from(ProbeRow)
            if region is not None:
                query = query.where(ProbeRow.region == region)
            return int(session.execute(query).scalar_one())
    finally:
        store.close()


def rate(url: str, procs: list[subprocess.Popen[bytes]], seconds: float) -> float:
    """Results stored per second by `procs` over `seconds`, after a warm-up."""
    time.sleep(5.0)  # start-up, schema, first probes
    before, t0 = count(url), time.monotonic()
    time.sleep(seconds)
    after, t1 = count(url), time.monotonic()
    for proc in procs:
        proc.send_signal(signal.SIGTERM)
    for proc in procs:
        proc.wait(60)
    return (after - before) / (t1 - t0)


def throughput(sim: str, tmp: Path, models: int, seconds: float) -> tuple[float, float]:
    with pg_schema() as url:
        config = write_config(tmp / "alone.yaml", url, sim, models, "1s")
        alone = rate(url, [start(config, tmp / "alone.log", "eu-west")], seconds)
    with pg_schema() as url:
        config = write_config(tmp / "three.yaml", url, sim, models, "1s")
        procs = [start(config, tmp / f"{r}.log", r) for r in ("eu-west", "us-east", "ap-south")]
        three = rate(url, procs, seconds)
    return alone, three


def failover(sim: str, tmp: Path, kills: int, interval: float) -> list[float]:
    """Seconds from SIGKILL of the leader to the next one holding the lease, `kills` times."""
    times: list[float] = []
    with pg_schema() as url:
        config = write_config(tmp / "failover.yaml", url, sim, 3, f"{interval:g}s")
        store = open_store(url)
        procs = {}
        try:
            for n in range(2):
                proc = start(config, tmp / f"failover-{n}.log", f"r{n}")
                procs[proc.pid] = proc
                _wait_log(tmp / f"failover-{n}.log", "this monitor")
            for _ in range(kills):
                held = _wait_leader(store, procs)
                victim = procs.pop(held)
                time.sleep(interval * 2)  # the follower is settled and probing
                t0 = time.monotonic()
                victim.send_signal(signal.SIGKILL)
                victim.wait(30)
                new = _wait_leader(store, procs)
                times.append(time.monotonic() - t0)
                assert new != held
                log = tmp / f"failover-{len(times) + 1}.log"
                proc = start(config, log, "r")
                procs[proc.pid] = proc
                _wait_log(log, "this monitor follows")
        finally:
            for proc in procs.values():
                proc.send_signal(signal.SIGKILL)
                proc.wait(30)
            store.close()
    return times


def _wait_log(path: Path, words: str) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if path.exists() and words in path.read_text(errors="replace"):
            return
        time.sleep(0.05)
    raise RuntimeError(f"{path.name}: {words!r} not logged within 120 s")


def _wait_leader(store: object, procs: dict[int, subprocess.Popen[bytes]]) -> int:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        info = lease.current(store)  # type: ignore[arg-type]
        if info is not None and info.live:
            pid = int(info.holder.rpartition(":")[2])
            if pid in procs:
                return pid
        time.sleep(0.02)
    raise RuntimeError("no monitor took the lead within 120 s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.scale")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--models", type=int, default=40)
    parser.add_argument("--kills", type=int, default=10)
    parser.add_argument("--interval", type=float, default=2.0)
    args = parser.parse_args(argv)
    print(f"machine: {machine()}")
    with simulator(FAST) as sim, tempfile.TemporaryDirectory(prefix="brownout-scale-") as t:
        tmp = Path(os.environ.get("BROWNOUT_BENCH_KEEP", t))
        tmp.mkdir(parents=True, exist_ok=True)
        alone, three = throughput(sim, tmp, args.models, args.seconds)
        if not alone:
            raise SystemExit(f"the lone monitor stored nothing; see its log in {tmp}")
        print(
            f"results/s into one PostgreSQL, {args.models} targets each, interval 1 s: "
            f"1 monitor {alone:.1f}, 3 regional monitors {three:.1f} "
            f"(ratio {three / alone:.2f}; 3.00 would be perfect scaling)"
        )
        times = failover(sim, tmp, args.kills, args.interval)
        print(
            f"failover over {len(times)} SIGKILLs of the leader (interval {args.interval:g} s, "
            f"lease {max(args.interval, 2.0):g} s): median {statistics.median(times):.2f} s, "
            f"max {max(times):.2f} s; bound two intervals = {2 * args.interval:g} s"
        )
        print("each: " + ", ".join(f"{x:.2f}" for x in times))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
