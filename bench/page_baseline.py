"""The page's data beside a baseline checkout, in one run: a ratio, not an absolute figure.

    git worktree add /tmp/base 6954e73        # the commit to compare with (here: before sketches)
    .venv/bin/python -m bench.page_baseline --base /tmp/base [--targets 200] [--days 3]
                                            [--rounds 3] [--repeat 3]

Each side (this checkout and `--base`) seeds its own database of the same shape with its own
code (`bench.dashboard --seed-only`: the same simulated history through that side's write path;
kept in $TMPDIR and reused by later runs of the same size), then `dashboard.data.load` is timed
for every range, all targets, in a fresh process per side and round, the sides alternating so
both see the same load on the machine. Printed: the median of `--repeat` calls per range and
round, each part's time (`Page.timings`), and after ÷ before per range (the median over rounds).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent

# Run inside each checkout (its own `dashboard` and `monitor`): times `data.load` per range.
_MEASURE = """
import json, statistics, sys, time
from datetime import datetime
sys.path.insert(0, '.')
from dashboard import data
from monitor.config import Config
from monitor.config.schema import StorageConfig
from monitor.store import open_store
db, now_text, repeat = sys.argv[1], sys.argv[2], int(sys.argv[3])
url = f'sqlite:///{db}'
store = open_store(url, readonly=True)
config = Config(storage=StorageConfig(url=url))
now = datetime.fromisoformat(now_text)
def forget():
    # What the page keeps between refreshes (settled day rows and chart points), not the
    # transfer switch's 30 s answer: that one is the same on both sides and timed apart.
    for module in list(sys.modules.values()):
        if getattr(module, '__name__', '').startswith('dashboard'):
            for name in ('_past_days_cache', '_kept'):
                kept = getattr(module, name, None)
                if isinstance(kept, dict):
                    kept.clear()
data.load(store, config, now, range_key='24h')  # imports, connections, the switch's answer
out = {}
for key in data.RANGES:
    cold = []
    for _ in range(repeat):
        forget()
        started = time.perf_counter()
        data.load(store, config, now, range_key=key)
        cold.append(time.perf_counter() - started)
    times, parts = [], []
    for _ in range(repeat):
        started = time.perf_counter()
        page = data.load(store, config, now, range_key=key)
        times.append(time.perf_counter() - started)
        parts.append(page.timings)
    out[key] = {
        'total': statistics.median(times),
        'cold': statistics.median(cold),
        'parts': {k: statistics.median(p[k] for p in parts) for k in parts[0]},
    }
print(json.dumps(out))
"""


def seeded(checkout: Path, db: str, targets: int, days: int) -> str:
    """Seed `db` with `checkout`'s own code unless it holds a seed of this size made by a schema
    of the same version (a newer migration cannot be applied to a database opened read-only);
    returns the seed's `now`."""
    wanted = f"{targets} {days} schema {_schema(checkout)}"
    meta = Path(db + ".meta")
    if not meta.exists() or meta.read_text().split("|")[0] != wanted:
        print(f"seeding {db} with {checkout}", flush=True)
        subprocess.run(
            [
                *(sys.executable, "-m", "bench.dashboard", "--targets", str(targets)),
                *("--days", str(days), "--db", db, "--seed-only", "--reseed"),
            ],
            cwd=checkout,
            env=_env(checkout),
            check=True,
        )
        _, *rest = meta.read_text().split("|")
        meta.write_text("|".join([wanted, *rest]))
    return meta.read_text().split("|")[1]


def _schema(checkout: Path) -> str:
    """How many migrations `checkout`'s store knows ("?" for a store without the list)."""
    code = "try:\n from monitor.store.db import MIGRATIONS\n print(len(MIGRATIONS))\n"
    code += "except Exception:\n print('?')"
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=checkout,
        env=_env(checkout),
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout.strip() or "?"


def _env(checkout: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(checkout)}


def measure(checkout: Path, db: str, now: str, repeat: int) -> dict[str, dict[str, object]]:
    done = subprocess.run(
        [sys.executable, "-c", _MEASURE, db, now, str(repeat)],
        cwd=checkout,
        env=_env(checkout),
        check=False,
        capture_output=True,
        text=True,
    )
    if done.returncode:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise SystemExit(f"measuring {checkout} on {db} failed: {last}")
    found: dict[str, dict[str, object]] = json.loads(done.stdout.strip().splitlines()[-1])
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.page_baseline", description=__doc__.split("\n")[0])
    parser.add_argument("--base", required=True, help="a checkout of the baseline commit")
    parser.add_argument("--targets", type=int, default=200)
    parser.add_argument("--days", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--dir", default=tempfile.gettempdir(), help="where the databases live")
    args = parser.parse_args(argv)
    base = Path(args.base).resolve()
    if not (base / "dashboard" / "data.py").exists():
        parser.error(f"{base} is not a brownout checkout")
    size = f"{args.targets}x{args.days}"
    commit = subprocess.run(
        ["git", "-C", str(base), "rev-parse", "--short=7", "HEAD"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    sides = {
        "before": (base, os.path.join(args.dir, f"brownout-page-{commit}-{size}.db")),
        "after": (HERE, os.path.join(args.dir, f"brownout-page-head-{size}.db")),
    }
    nows = {name: seeded(path, db, args.targets, args.days) for name, (path, db) in sides.items()}
    got: dict[str, list[dict[str, dict[str, object]]]] = {name: [] for name in sides}
    for n in range(args.rounds):
        for name, (path, db) in sides.items():
            got[name].append(measure(path, db, nows[name], args.repeat))
        print(f"round {n + 1}/{args.rounds} done, load average {_load()}", flush=True)
    print(
        f"page data, {args.targets} targets × {args.days} days, median of {args.repeat} per round"
    )
    worst = 0.0
    for kind, title in (("cold", "first call (nothing kept)"), ("total", "refresh")):
        print(f"{title}:")
        print(f"{'range':>5} {'before ms':>10} {'after ms':>9} {'after/before':>12}   rounds (ms)")
        for key in got["after"][0]:
            before = statistics.median(float(r[key][kind]) for r in got["before"])  # type: ignore[arg-type]
            after = statistics.median(float(r[key][kind]) for r in got["after"])  # type: ignore[arg-type]
            worst = max(worst, after)
            each = " / ".join(
                f"{float(b[key][kind]) * 1000:.0f}→{float(a[key][kind]) * 1000:.0f}"  # type: ignore[arg-type]
                for b, a in zip(got["before"], got["after"], strict=True)
            )
            print(
                f"{key:>5} {before * 1000:10.0f} {after * 1000:9.0f} {after / before:11.2f}×   {each}"
            )
    print("parts, last round (ms), before | after:")
    for key in got["after"][-1]:
        parts = []
        for name in ("before", "after"):
            timings: dict[str, float] = got[name][-1][key]["parts"]  # type: ignore[assignment]
            parts.append(", ".join(f"{k} {v * 1000:.0f}" for k, v in timings.items()))
        print(f"  {key:>4}: {parts[0]} | {parts[1]}")
    print(f"after, worst range: {worst * 1000:.0f} ms; load average now {_load()}")
    return 0


def _load() -> str:
    return ", ".join(f"{x:.1f}" for x in os.getloadavg())


if __name__ == "__main__":
    raise SystemExit(main())
