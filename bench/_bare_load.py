"""The load benchmark's same-run baseline: the monitor's HTTP client and nothing else.

    python -m bench._bare_load URL TARGETS INTERVAL WARMUP SECONDS CONCURRENCY

Run in its own process beside `bench.load`'s monitor, for the same window: each of TARGETS
fires the same streaming request every INTERVAL (first runs spread over the interval, the
monitor's slots as a semaphore), through `monitor.runner.make_client` (the same sharded pools),
reading the body with `aiter_raw` and nothing more: no scheduler, no parsing, no check, no
store, no detection. Prints one JSON line: CPU seconds, requests, lateness (seconds, start of
each request minus its planned time) and the window's length. What the monitor costs above
this is brownout's own work; lateness here is the machine's.
"""

from __future__ import annotations

import asyncio
import json
import random
import sys
import time
from typing import Any


async def main(url: str, targets: int, interval: float, warmup: float, seconds: float,
               concurrency: int) -> dict[str, Any]:  # fmt: skip
    from bench._sim import bare_request, config_for
    from monitor.runner import make_client

    config = config_for(url, [f"load{i:05d}" for i in range(targets)], ["openai"],
                        interval=interval, max_concurrency=concurrency)  # fmt: skip
    slots = asyncio.Semaphore(concurrency)
    lateness: list[float] = []
    done = 0
    measuring = False
    rng = random.Random(1)
    start = time.monotonic() + warmup
    end = start + seconds
    async with make_client(config) as client:

        async def target(t: Any) -> None:
            nonlocal done
            url_, headers, body = bare_request(t, "What is 17 * 23? Reply with the number only.",
                                               16)  # fmt: skip
            planned = time.monotonic() + rng.uniform(0, interval)
            while planned < end:
                await asyncio.sleep(max(0.0, planned - time.monotonic()))
                async with slots:
                    began = time.monotonic()
                    try:
                        async with client.stream("POST", url_, content=body,
                                                 headers=headers) as r:  # fmt: skip
                            async for _ in r.aiter_raw():
                                pass
                    except Exception:  # a failed request is still a request
                        pass
                if measuring:
                    lateness.append(began - planned)
                    done += 1
                planned += interval

        async def window() -> tuple[float, float]:
            nonlocal measuring
            await asyncio.sleep(max(0.0, start - time.monotonic()))
            measuring = True
            cpu0, t0 = time.process_time(), time.monotonic()
            await asyncio.sleep(max(0.0, end - time.monotonic()))
            measuring = False
            return time.process_time() - cpu0, time.monotonic() - t0

        tasks = [asyncio.create_task(target(t)) for t in config.targets()]
        cpu, elapsed = await window()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return {"cpu": cpu, "requests": done, "lateness": lateness, "elapsed": elapsed}


if __name__ == "__main__":
    url, n, interval, warmup, seconds, concurrency = sys.argv[1:7]
    figures = asyncio.run(
        main(url, int(n), float(interval), float(warmup), float(seconds), int(concurrency))
    )
    print(json.dumps(figures))
