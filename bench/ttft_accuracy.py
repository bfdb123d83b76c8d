"""TTFT accuracy: the simulator injects a known TTFT per target and streams 30 tokens at a known
rate; how far is the TTFT `run_probe` measures from the injected one? Goal: ≤ 3 ms median and
≤ 10 ms p99 with 200 targets whose probes start spread over 10 s (as the scheduler's jitter
spreads them); also shown when all 200 start at the same instant.

    .venv/bin/python -m bench.ttft_accuracy [--targets 200] [--spread 10] [--kinds openai,anthropic,gemini]
                                             [--gc on|freeze|off]

Baseline in the same run: a bare httpx client (no brownout code) timing from the moment its
request was written, by httpcore's trace: from `send_request_body.started` (as brownout does;
the body goes to the socket right after) and from `.complete` (which comes one event-loop turn
later); and from before it called `client.send` (what a naive monitor does: its own queueing
then counts against the provider).
The simulator runs in its own process (see bench/_sim.py).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import time
from collections import defaultdict
from typing import Any

import httpx

from bench._sim import (
    GcPauses,
    bare_request,
    by_model,
    chunk_text,
    config_for,
    machine,
    percentile,
    set_gc,
    simulator,
    summary,
)
from monitor.canaries.expect import Expect
from monitor.config import CanaryConfig, Config
from monitor.probe import run_probe
from monitor.runner import make_client
from monitor.target import Target

ANSWER = " ".join(str(i) for i in range(1, 31))  # 30 tokens as the simulator splits text
PROMPT = "Count from 1 to 30, separated by spaces. Reply with the numbers only."
CANARY = CanaryConfig(
    name="count", prompt=PROMPT, expect=Expect(regex=r"^1 2 3( \d+)* 30$"), max_tokens=64
)
TOKENS_PER_S = 100.0


def injected_ttft_ms(i: int) -> float:
    """Target i's TTFT: 50 to 249 ms, scattered so neighbours in time differ."""
    return 50.0 + (i * 37) % 200


def scenario(targets: int) -> dict[str, Any]:
    return {
        "name": "ttft-accuracy",
        "answers": {"Count from 1 to 30": ANSWER},
        "defaults": {"tokens_per_s": TOKENS_PER_S, "jitter": 0, "spike_rate": 0},
        "models": {f"t{i:03d}": {"ttft": injected_ttft_ms(i) / 1000} for i in range(targets)},
    }


async def probe_path(
    client: httpx.AsyncClient, target: Target
) -> tuple[float | None, float | None]:
    """(ttft_ms, tokens_per_s) as brownout measures them."""
    result = await run_probe(client, target, CANARY, timeout=30.0)
    if not result.ok:
        raise RuntimeError(f"{target.name}: {result.outcome} {result.error}")
    return result.ttft_ms, result.tokens_per_s


async def bare_path(client: httpx.AsyncClient, target: Target) -> dict[str, float]:
    """TTFT (ms) of a bare httpx streaming client, timed three ways: from httpcore's
    `send_request_body.started` (as brownout times it: the body is written right after) and
    `.complete` trace events, and from the call."""
    url, headers, body = bare_request(target, PROMPT, CANARY.max_tokens)
    moments: dict[str, float] = {}

    async def trace(name: str, info: dict[str, Any]) -> None:
        if ".send_request_body." in name:
            moments[name.rpartition(".")[2]] = time.perf_counter()

    called = time.perf_counter()
    request = client.build_request("POST", url, content=body, headers=headers)
    request.extensions["trace"] = trace
    response = await client.send(request, stream=True)
    first = None
    text = []
    try:
        # Every chunk is parsed, as any client that wants the answer must (not just the first).
        async for line in response.aiter_lines():
            if line.startswith("data:"):
                piece = chunk_text(target.kind, line[5:].strip())
                if piece:
                    first = first or time.perf_counter()
                    text.append(piece)
    finally:
        await response.aclose()
    if first is None or len(moments) < 2:
        raise RuntimeError(f"{target.name}: no answer (HTTP {response.status_code})")
    moments["call"] = called
    return {f"from {event}": (first - at) * 1000 for event, at in moments.items()}


Errors = dict[str, list[float]]


async def run_mode(config: Config, spread: float, seed: int) -> tuple[Errors, list[str]]:
    """One probe per target, starts spread uniformly over `spread` s (0: all at once); then the
    bare client over the same schedule. Returns signed errors (measured − injected, ms) per
    group, and the worst brownout probes described."""
    targets = config.targets()
    rng = random.Random(seed)
    offsets = [rng.uniform(0, spread) if spread else 0.0 for _ in targets]
    errors: Errors = defaultdict(list)
    worst: list[tuple[float, str]] = []

    async with make_client(config) as client:
        await asyncio.gather(*(probe_path(client, t) for t in targets[:3]))  # warm imports, pool

        async def one_probe(target: Target, offset: float) -> None:
            await asyncio.sleep(offset)
            ttft, rate = await probe_path(client, target)
            assert ttft is not None
            injected = injected_ttft_ms(int(target.model[1:]))
            errors["brownout"].append(ttft - injected)
            errors[f"brownout {target.kind}"].append(ttft - injected)
            worst.append(
                (
                    abs(ttft - injected),
                    f"{target.name} injected {injected:.0f} ms "
                    f"measured {ttft:.1f} ms (start +{offset:.2f} s)",
                )
            )
            if rate is not None:
                errors["tokens/s"].append(rate - TOKENS_PER_S)

        await asyncio.gather(*(one_probe(t, o) for t, o in zip(targets, offsets, strict=True)))

    async with make_client(config) as client:
        await asyncio.gather(*(bare_path(client, t) for t in targets[:3]))

        async def one_bare(target: Target, offset: float) -> None:
            await asyncio.sleep(offset)
            injected = injected_ttft_ms(int(target.model[1:]))
            for timed, ttft in (await bare_path(client, target)).items():
                errors[f"bare httpx ({timed})"].append(ttft - injected)

        await asyncio.gather(*(one_bare(t, o) for t, o in zip(targets, offsets, strict=True)))
    return errors, [text for _, text in sorted(worst, reverse=True)[:3]]


def report(title: str, errors: Errors, worst: list[str]) -> None:
    print(title)
    for name in sorted(errors, key=lambda n: (n.startswith("tokens"), n)):
        values = errors[name]
        if name == "tokens/s":
            measured = TOKENS_PER_S + statistics.median(values)
            off = percentile([abs(v) for v in values], 99)
            print(
                f"  {'tokens/s (injected 100)':26s} median measured {measured:6.1f}, "
                f"p99 |error| {off:5.1f} (n={len(values)})"
            )
        else:
            print(f"  {name:26s} |TTFT error| {summary(values)}")
    print("  worst brownout probes: " + "; ".join(worst))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--targets", type=int, default=200)
    parser.add_argument("--spread", type=float, default=10.0)
    parser.add_argument(
        "--kinds", type=lambda s: s.split(","), default=["openai", "anthropic", "gemini"]
    )
    parser.add_argument("--seed", type=int, default=2)
    parser.add_argument(
        "--gc",
        choices=["on", "freeze", "off"],
        default="on",
        help="the measuring process's garbage collector (default on, as Python runs)",
    )
    args = parser.parse_args(argv)
    set_gc(args.gc)
    pauses = GcPauses()
    models = [f"t{i:03d}" for i in range(args.targets)]
    with simulator(scenario(args.targets)) as url:
        config = config_for(url, models, args.kinds, timeout="30s")
        assert len(by_model(config)) == args.targets
        print(
            f"{args.targets} targets ({', '.join(args.kinds)}), injected TTFT 50–249 ms, "
            f"30 tokens at {TOKENS_PER_S:g}/s, simulator at {url}"
        )
        print(f"{machine()}; garbage collector {args.gc}")
        spread, worst = asyncio.run(run_mode(config, args.spread, args.seed))
        report(f"starts spread over {args.spread:g} s:", spread, worst)
        print(f"  in this process: {pauses.take()}")
        burst, worst = asyncio.run(run_mode(config, 0.0, args.seed))
        report("all starting at the same instant:", burst, worst)
        print(f"  in this process: {pauses.take()}")
        print(machine())
    absolute = [abs(e) for e in spread["brownout"]]
    met = statistics.median(absolute) <= 3.0 and percentile(absolute, 99) <= 10.0
    print(f"goal (spread: median <= 3 ms, p99 <= 10 ms): {'met' if met else 'NOT met'}")
    return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(main())
