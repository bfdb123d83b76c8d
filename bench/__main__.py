"""Run every benchmark in bench/, one after the other, each in its own process.

    .venv/bin/python -m bench            # all of them
    .venv/bin/python -m bench ttft       # those whose name contains "ttft"

A benchmark is any `bench/NAME.py` not starting with `_` that defines `main()`, or any package
`bench/NAME/` with a `__main__.py`; run one alone with `.venv/bin/python -m bench.NAME`.
Latest figures: docs/benchmarks.md.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    here = Path(__file__).resolve().parent
    names = sorted(
        p.stem
        for p in here.glob("*.py")
        if not p.stem.startswith("_") and "def main(" in p.read_text()
    )
    chosen = [n for n in names if not argv or any(a in n for a in argv)]
    failed = []
    for name in chosen:
        print(f"== bench.{name}", flush=True)
        code = subprocess.call([sys.executable, "-m", f"bench.{name}"], cwd=here.parent)
        if code:
            failed.append(f"{name} (exit {code})")
        print(flush=True)
    if failed:
        print("goals not met or errors: " + ", ".join(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
