"""`brownout demo`: the simulator and the monitor together, no API keys needed.

Starts the built-in provider simulator on a loopback port with a scripted scenario, writes a
config that points every provider at it, and runs the real monitor (scheduler, storage,
detection, alerts) on it, showing each probe as it lands in a live table. Everything it writes
lives in one folder (`--dir`, default a fresh temporary folder), printed at start.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import sys
import tempfile
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any

from rich.console import Console, Group
from rich.live import Live
from rich.table import Table

from monitor.commands.run import serve_monitor
from monitor.config import Config, load_config
from monitor.durations import parse_duration
from monitor.errors import UsageError
from monitor.pipeline.leader import Leadership
from monitor.result import ProbeResult
from monitor.store import Store, open_store
from monitor.terminal import cells, results_table


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dir", metavar="PATH", help="folder for the demo's database and config")
    parser.add_argument("--duration", metavar="D", help="stop by itself after D (e.g. 2m)")
    parser.add_argument(
        "--scenario", metavar="F", help="a simulator scenario instead of the built-in one"
    )
    parser.add_argument(
        "--port", type=int, default=0, help="simulator port (default: any free one)"
    )


def run(args: argparse.Namespace) -> int:
    try:
        duration = parse_duration(args.duration) if args.duration else None
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    workdir = Path(args.dir) if args.dir else Path(tempfile.mkdtemp(prefix="brownout-demo-"))
    workdir.mkdir(parents=True, exist_ok=True)
    console = Console(stderr=False)
    with _simulator(args.scenario, args.port) as sim_url:
        config_file = write_demo_config(workdir, sim_url)
        config = load_config(str(config_file), env={})
        console.print(f"[bold]brownout demo[/]: simulator at {sim_url}; data in {workdir}")
        console.print(f"  config: {config_file}   (BROWNOUT_CONFIG={config_file})")
        store = open_store(config.storage.url)
        _backfill(store, config, console)
        page = _status_page(config_file, config, workdir, console)
        console.print("  Ctrl-C to stop.\n")
        feed = LiveFeed()
        try:
            asyncio.run(_run(config, store, feed, console, duration))
        finally:
            if page is not None:
                page.stop()
            store.close()
    console.print(f"\n{feed.count} probe(s) stored in {config.storage.url}")
    return 0


def write_demo_config(workdir: Path, sim_url: str) -> Path:
    """The shipped demo config with the simulator's URL and the demo database filled in."""
    template = resources.files("monitor.demo").joinpath("config.yaml").read_text(encoding="utf-8")
    db = f"sqlite:///{(workdir / 'brownout.db').resolve()}"
    path = workdir / "probes.yaml"
    path.write_text(template.replace("{sim}", sim_url).replace("{db}", db), encoding="utf-8")
    return path


@contextmanager
def _simulator(scenario: str | None, port: int) -> Iterator[str]:
    from monitor.simulator import run_in_thread

    if scenario is None:
        scenario = str(resources.files("monitor.demo").joinpath("scenario.yaml"))
    with run_in_thread(scenario, port=port) as sim:
        yield str(sim.url)


class LiveFeed:
    """A sink that keeps the newest probes for the live table (fed from the pipeline thread)."""

    def __init__(self, keep: int = 16) -> None:
        self.recent: collections.deque[ProbeResult] = collections.deque(maxlen=keep)
        self.latest: dict[str, ProbeResult] = {}
        self.count = 0
        self.detection: Any = None  # the DetectionService, when there is one, for statuses
        self.statuses: dict[str, Any] = {}
        self._lock = threading.Lock()
        self.printer: Console | None = None  # set when the terminal is not interactive

    def on_results(self, batch: Sequence[ProbeResult]) -> None:
        # Runs on the pipeline thread after detection, so the statuses snapshot is current.
        statuses = dict(self.detection.statuses()) if self.detection is not None else {}
        with self._lock:
            self.statuses = statuses
            for result in batch:
                self.recent.append(result)
                self.latest[result.target] = result
                self.count += 1
                if self.printer is not None:
                    self.printer.print("  ".join(cells(result)), highlight=False, soft_wrap=True)

    def render(self) -> Group:
        with self._lock:
            recent = list(self.recent)
            latest = dict(sorted(self.latest.items()))
            statuses = dict(self.statuses)
        targets = Table(title="targets", header_style="bold")
        for column in ("target", "status", "reasons", "last outcome", "ttft", "latency"):
            targets.add_column(column)
        for name, result in latest.items():
            status = statuses.get(name)
            word = getattr(getattr(status, "status", None), "value", "…")
            colour = {"operational": "green", "degraded": "yellow", "down": "red"}.get(word, "dim")
            targets.add_row(
                name,
                f"[{colour}]{word}[/]",
                ", ".join(getattr(status, "reasons", []) or []),
                result.outcome.value,
                *cells(result)[4:6],
            )
        return Group(
            targets, results_table(recent[::-1], title=f"latest probes ({self.count} stored)")
        )


async def _run(
    config: Config, store: Store, feed: LiveFeed, console: Console, duration: float | None
) -> None:
    leadership = Leadership(config, store)
    feed.detection = leadership
    if sys.stdout.isatty():
        with Live(get_renderable=feed.render, console=console, refresh_per_second=4):
            await serve_monitor(
                config, store, duration=duration, leadership=leadership, sinks=[feed]
            )
    else:
        feed.printer = console
        await serve_monitor(config, store, duration=duration, leadership=leadership, sinks=[feed])


def _backfill(store: Store, config: Config, console: Console, days: float = 3.0) -> None:
    """A few days of simulated history (a quality brownout, a latency brownout, an outage that
    recovers; detection run over it) so the status page has charts and incidents at once.
    Skipped when the database already holds results (a reused `--dir`)."""
    from monitor.demo.backfill import backfill
    from monitor.result import utcnow
    from monitor.store import results

    if results.count(store):
        return
    console.print(f"  backfilling {days:g} days of simulated history…")
    stored, _ = backfill(store, config, utcnow(), days=days)
    console.print(f"  {stored:,} simulated results stored")


def _status_page(config_file: Path, config: Config, workdir: Path, console: Console) -> Any:
    """The status page (`streamlit run dashboard/app.py`) on a free loopback port, or None."""
    from monitor.dashboard_process import start_dashboard

    log = workdir / "dashboard.log"
    try:
        page = start_dashboard(str(config_file), config.storage.url, log=log)
    except RuntimeError as exc:
        console.print(f"  [yellow]status page not started: {exc} (see {log})[/]")
        return None
    if page is None:
        console.print("  status page: dashboard/app.py is not part of this installation")
        return None
    console.print(f"  [bold]status page: {page.url}[/]")
    return page
