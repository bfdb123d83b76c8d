"""`brownout once`: every selected probe once, now; stores the results.

With `--json`, one result object per line on stdout (the result record of docs/contract.md); otherwise a table.
Exit 0 when every probe ran and was stored, whatever the providers answered: a failed probe is
data. Use `--strict` to exit 1 when any probe was not `ok`.

Detection (statuses, transitions, incidents; never alerts, they are `brownout run`'s) runs only
when this process can hold the leader lease (`monitor.pipeline.leader`), as any monitor's does:
with a `brownout run` leading on the same database, `once` only stores its results, which the
leader's detection then reads like any follower's, and says so.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from rich.console import Console

from monitor.config import Config, load_config
from monitor.pipeline.leader import Leadership
from monitor.pipeline.services import Services, build_services
from monitor.result import Outcome, ProbeResult
from monitor.runner import Monitor, Sink, make_client
from monitor.selection import check_canaries, select_targets
from monitor.store import Store, open_store
from monitor.target import Target
from monitor.telemetry import start_export
from monitor.terminal import results_table


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="one result object per line")
    parser.add_argument(
        "--target",
        action="append",
        metavar="T",
        help="PROVIDER/MODEL, a provider, or a glob; repeatable",
    )
    parser.add_argument("--canary", action="append", metavar="C", help="a canary name; repeatable")
    parser.add_argument("--strict", action="store_true", help="exit 1 when any probe was not ok")


def run(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    for warning in config.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    targets = select_targets(config, args.target)
    canaries = check_canaries(config, args.canary)
    if not targets:
        print("brownout: no targets to probe (is any provider's API key set?)", file=sys.stderr)
        return 2
    store = open_store(config.storage.url)
    try:
        batch, waiting = asyncio.run(_once(config, store, targets, canaries))
    finally:
        store.close()
    if args.json:
        for result in batch:
            print(result.to_json())
    else:
        Console().print(results_table(batch))
    if waiting:
        print(f"brownout: {waiting}", file=sys.stderr)
        return 1
    if args.strict and any(r.outcome is not Outcome.OK for r in batch):
        return 1
    return 0


async def _once(
    config: Config, store: Store, targets: list[Target], canaries: list[str] | None
) -> tuple[list[ProbeResult], str | None]:
    """The results, and a sentence when some could not be written (they wait in the spool)."""

    def build(config: Config, fenced: Store) -> Services:
        # Detection so that statuses reflect these results; alerts are left to `brownout run`.
        return build_services(config, fenced, alerts=False)

    async with make_client(config) as client:
        leadership = Leadership(config, store, build=build)
        export = start_export(config, store)  # OpenTelemetry, when OTEL_* or `otel:` say so
        sinks: list[Sink] = [leadership, *([export] if export is not None else [])]
        monitor = Monitor(config, store, client, sinks=sinks)
        try:
            await leadership.start(monitor.in_pipeline, client)  # logs "leads" or "follows"
            batch = await monitor.run_once(targets, canaries)
            led = leadership.leading
        finally:
            await leadership.stop()  # a lease held for this run is handed back at once
            await monitor.close()
            if export is not None:
                await asyncio.to_thread(export.close)
    leader = leadership.leader
    if not led and leader is not None and leader.live:
        print(
            f"brownout: results stored; detection left to the monitor that leads, "
            f"{leader.holder} (region {leader.region})",
            file=sys.stderr,
        )
    state = monitor.writer.state()
    waiting = state["backlog"]["results"]
    refused = state["results_rejected"]
    if refused:
        return batch, f"the database refused {refused} result(s); they were not stored"
    if not waiting:
        return batch, None
    where = state["backlog"].get("spool", "nowhere")
    return batch, (
        f"the database did not take {waiting} result(s) ({state.get('database_error')}); "
        f"they wait in {where} for the next run"
    )
