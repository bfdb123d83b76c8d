"""Probe throughput: N targets probed back to back through `run_probe`, beside a bare httpx
streaming loop against the same simulator, in the same run. Goal: ≥ 0.8× the bare loop.

    .venv/bin/python -m bench.probe_throughput [--targets 50] [--seconds 3] [--rounds 5]
                                               [--kinds openai,anthropic,gemini]

Each target is one worker sending its next request as soon as the last one ended (the
scheduler's `max_instances=1`); the simulator answers at once (no TTFT, every token together)
so the figure is the client's own cost per probe. Both loops share one client configuration
(`monitor.runner.make_client`) and alternate in rounds, so drift hits both alike.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections import Counter
from collections.abc import Awaitable, Callable

import httpx

from bench._sim import bare_request, by_model, config_for, machine, simulator
from monitor.canaries.expect import Expect
from monitor.config import CanaryConfig, Config
from monitor.probe import run_probe
from monitor.runner import make_client
from monitor.target import Target

PROMPT = "What is 17 * 23? Reply with the number only."
CANARY = CanaryConfig(name="arithmetic", prompt=PROMPT, expect=Expect(equals="391"))
WARMUP_S = 1.0

Worker = Callable[[httpx.AsyncClient, Target], Awaitable[str]]


async def probe_once(client: httpx.AsyncClient, target: Target) -> str:
    result = await run_probe(client, target, CANARY, timeout=30.0)
    return result.outcome.value


async def bare_once(client: httpx.AsyncClient, target: Target) -> str:
    url, headers, body = bare_request(target, PROMPT, CANARY.max_tokens)
    async with client.stream("POST", url, content=body, headers=headers) as response:
        async for _ in response.aiter_lines():
            pass
    return "ok" if response.status_code == 200 else f"http {response.status_code}"


async def sustain(
    config: Config, worker: Worker, seconds: float
) -> tuple[float, float, Counter[str]]:
    """(requests/s, client CPU ms per request, outcomes) with every target in a tight loop."""
    outcomes: Counter[str] = Counter()
    async with make_client(config) as client:
        targets = config.targets()

        async def loop(target: Target, until: float, count: bool) -> None:
            while time.perf_counter() < until:
                outcome = await worker(client, target)
                if count:
                    outcomes[outcome] += 1

        await asyncio.gather(*(loop(t, time.perf_counter() + WARMUP_S, False) for t in targets))
        cpu, start = time.process_time(), time.perf_counter()
        await asyncio.gather(*(loop(t, start + seconds, True) for t in targets))
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    done = sum(outcomes.values())
    return done / elapsed, 1000 * cpu / max(done, 1), outcomes


async def bench(url: str, args: argparse.Namespace) -> float:
    """Alternating rounds of the bare loop and the probe loop; the median per-round ratio."""
    models = [f"tp{i:03d}" for i in range(args.targets)]
    config = config_for(url, models, args.kinds, max_concurrency=args.targets, timeout="30s")
    assert len(by_model(config)) == args.targets
    print(
        f"{args.targets} targets ({', '.join(args.kinds)}), {args.rounds} rounds of "
        f"{args.seconds:g} s per loop, simulator at {url}\n{machine()}"
    )
    ratios, cpu_ratios = [], []
    rates: dict[str, list[float]] = {"bare": [], "probe": []}
    for round_no in range(1, args.rounds + 1):
        measured = {}
        for name, worker in (("bare", bare_once), ("probe", probe_once)):
            rate, cpu_ms, outcomes = await sustain(config, worker, args.seconds)
            measured[name] = (rate, cpu_ms)
            rates[name].append(rate)
            if set(outcomes) != {"ok"}:
                print(f"  (!) {name}: not every request succeeded {dict(outcomes)}")
        (bare, bare_cpu), (probe, probe_cpu) = measured["bare"], measured["probe"]
        ratios.append(probe / bare)
        cpu_ratios.append(bare_cpu / probe_cpu)
        print(
            f"  round {round_no}: bare {bare:7.1f} req/s ({bare_cpu:5.2f} ms CPU each)   "
            f"probe {probe:7.1f} probes/s ({probe_cpu:5.2f} ms CPU each)   "
            f"ratio {ratios[-1]:.2f}x"
        )
    ratio = statistics.median(ratios)
    print(
        f"probe {statistics.median(rates['probe']):.1f} probes/s vs bare httpx "
        f"{statistics.median(rates['bare']):.1f} req/s (medians): ratio {ratio:.2f}x "
        f"(median of rounds; goal >= 0.80x); client CPU per request bare/probe "
        f"{statistics.median(cpu_ratios):.2f}x\n{machine()}"
    )
    return ratio


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--targets", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--kinds", type=lambda s: s.split(","), default=["openai"])
    args = parser.parse_args(argv)
    scenario = {"name": "throughput", "defaults": {"ttft": 0, "tokens_per_s": 0}}
    with simulator(scenario) as url:
        ratio = asyncio.run(bench(url, args))
    return 0 if ratio >= 0.8 else 1


if __name__ == "__main__":
    raise SystemExit(main())
