"""Detection's memory against the probes each target has seen: what a 10-minute `bench.load`
does not reach, since detection's windows fill for hours (1,440 healthy samples a signal).

    .venv/bin/python -m bench.detection_memory [--targets 200] [--probes 20,300,1000,2000]

Feeds a `RegionalDetector` (the default config) healthy traces of `bench.detection`, one a
minute per target, and prints the process's RSS growth after each number of probes a target,
and the same scaled to 2,000 targets. One more target is fed its whole trace before the RSS is
first read, so what a process pays once (modules imported on first use, the score tables that
all full windows share) is not counted, and scaled, as if every target paid it. The figures:
docs/benchmarks.md ("RSS after hours").
"""

from __future__ import annotations

import argparse
import gc
import os

from bench.detection.traces import generate
from monitor.config import Config
from monitor.detect.regions import RegionalDetector


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--targets", type=int, default=200)
    parser.add_argument("--probes", default="20,300,1000,2000")
    args = parser.parse_args()
    steps = [int(p) for p in args.probes.split(",")]
    targets = [f"openai/model-{i:04d}" for i in range(args.targets)]
    traces = {t: generate(t, max(steps), seed=i).results for i, t in enumerate(targets)}
    detector = RegionalDetector(Config())
    warm = "openai/model-warm"
    detector.observe(generate(warm, max(steps), seed=len(targets)).results)
    gc.collect()
    base, done = _rss_mb(), 0
    print(f"| probes a target | detection's memory, {args.targets} targets | scaled to 2,000 |")
    print("| --- | --- | --- |")
    for upto in steps:
        for target in targets:
            detector.observe(traces[target][done:upto])
        done = upto
        gc.collect()
        grown = _rss_mb() - base
        print(f"| {upto:,} | {grown:.1f} MB | {grown * 2000 / args.targets:.0f} MB |", flush=True)


if __name__ == "__main__":
    main()
