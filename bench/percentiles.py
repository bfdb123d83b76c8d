"""Percentile accuracy of the rollups: how far p50/p95/p99 read from merged rollups are from the
exact (nearest-rank) values of the raw results, over realistic distributions. Goal: ≤ 2 %.

    .venv/bin/python -m bench.percentiles [--n 20000] [--seed 1]

Each distribution is a day of one target's probes (spread over 24 h, so the figures are read
from day rows merged with nothing, and from 24 hour rows merged in Python: both are shown) and
goes through the production write path (`results.record` into a SQLite file). Baseline in the
same run: the layout the rollups had before, fixed log bins a factor 1.25 apart (geometric middle
of the bin, clamped to the observed extremes), over the same values.
"""

from __future__ import annotations

import argparse
import math
import random
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from monitor.result import Outcome, ProbeResult
from monitor.store import open_store, results, rollups

T0 = datetime(2026, 11, 1, tzinfo=UTC)
QS = (0.5, 0.95, 0.99)


def _lognormal(median: float, sigma: float) -> Callable[[random.Random], float]:
    return lambda rng: rng.lognormvariate(math.log(median), sigma)


def _mixture(rng: random.Random) -> float:
    """A cache-hit / cold-start mix: most answers fast, one in eight slow."""
    if rng.random() < 0.875:
        return rng.lognormvariate(math.log(350), 0.25)
    return rng.lognormvariate(math.log(2400), 0.4)


def _pareto(rng: random.Random) -> float:
    """A heavy tail: latency with a Pareto tail above 800 ms."""
    return 800 * rng.paretovariate(2.5)


def _local(rng: random.Random) -> float:
    """A local model's TTFT: a few milliseconds."""
    return rng.gauss(6.0, 0.8) if rng.random() < 0.97 else rng.uniform(20, 60)


def _tps(rng: random.Random) -> float:
    """Tokens per second: normal around 80 with a slow minority."""
    return max(1.0, rng.gauss(80, 12) if rng.random() < 0.9 else rng.gauss(25, 6))


DISTRIBUTIONS: dict[str, tuple[str, Callable[[random.Random], float]]] = {
    "TTFT lognormal(400 ms, 0.6)": ("ttft", _lognormal(400, 0.6)),
    "TTFT tight lognormal(300 ms, 0.1)": ("ttft", _lognormal(300, 0.1)),
    "TTFT local model (~6 ms)": ("ttft", _local),
    "latency cache-hit mixture": ("lat", _mixture),
    "latency Pareto tail": ("lat", _pareto),
    "tokens/s bimodal": ("tps", _tps),
}
FIELD = {"ttft": "ttft_ms", "lat": "latency_ms", "tps": "tokens_per_s"}


def exact(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(1, math.ceil(q * len(ordered))) - 1]


def old_bins(values: list[float], q: float) -> float:
    """The estimate of the former layout: 44 bins from 5 ms, a factor 1.25 apart."""
    counts = [0] * 44
    for v in values:
        counts[0 if v < 5 else min(43, 1 + int(math.log(v / 5) / math.log(1.25)))] += 1
    rank, seen = max(1, math.ceil(q * len(values))), 0
    for i, n in enumerate(counts):
        seen += n
        if seen >= rank:
            middle = 2.5 if i == 0 else 5 * 1.25 ** (i - 0.5)
            return min(max(middle, min(values)), max(values))
    return max(values)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.percentiles")
    parser.add_argument("--n", type=int, default=20000, help="probes per distribution")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(f"sqlite:///{tmp}/percentiles.db")
        print(f"{args.n:,} probes per distribution over one day; error = estimate / exact - 1")
        print(
            f"{'distribution':<36} {'q':>5} {'exact':>10} {'day row':>9} {'hours':>9} {'old bins':>9}"
        )
        worst_new = worst_old = 0.0
        for i, (name, (metric, draw)) in enumerate(DISTRIBUTIONS.items()):
            target = f"bench/d{i}"
            values = [draw(rng) for _ in range(args.n)]
            step = 86400 / args.n
            batch = []
            for k, v in enumerate(values):
                timings = {"ttft_ms": 100.0, "latency_ms": 500.0, "tokens_per_s": 50.0}
                timings[FIELD[metric]] = v
                batch.append(ProbeResult(
                    ts=T0 + timedelta(seconds=k * step), target=target, provider="bench",
                    model=f"d{i}", canary="c", outcome=Outcome.OK, quality_ok=True, **timings,
                ))  # fmt: skip
            for start in range(0, len(batch), 5000):
                results.record(store, batch[start : start + 5000])
            (day,) = rollups.fetch(store, rollups.DAY, T0, T0 + timedelta(days=1), targets=[target])
            hours = rollups.total(
                rollups.fetch(store, rollups.HOUR, T0, T0 + timedelta(days=1), targets=[target])
            )
            for q in QS:
                true = exact(values, q)
                errors = [
                    (day.percentile(metric, q) or 0) / true - 1,
                    (hours.percentile(metric, q) or 0) / true - 1,
                    old_bins(values, q) / true - 1,
                ]
                worst_new = max(worst_new, abs(errors[0]), abs(errors[1]))
                worst_old = max(worst_old, abs(errors[2]))
                print(
                    f"{name:<36} {q:>5} {true:>10.1f} "
                    + " ".join(f"{e * 100:>+8.2f}%" for e in errors)
                )
        store.close()
    print(f"worst error: sketches {worst_new * 100:.2f} % (goal ≤ 2 %), "
          f"old 1.25× bins {worst_old * 100:.2f} % → {worst_old / max(worst_new, 1e-9):.1f}× the error")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
