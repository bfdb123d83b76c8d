"""`brownout run`: the long-running monitor — scheduler, storage, detection, alerts, HTTP API.

Stops gracefully on SIGINT or SIGTERM: no new probes start, in-flight probes get a grace period
to finish, the rest are recorded as `cancelled`, and nothing is half-written; results the
database has not taken by then wait in the spool for the next start.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import logging
import signal
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import make_url

from monitor.commands.check import check_budget
from monitor.config import Config, load_config
from monitor.cost import daily_cost, measured_history
from monitor.durations import format_duration, parse_duration
from monitor.errors import UsageError
from monitor.pipeline.leader import Leadership
from monitor.runner import Monitor, Scheduler, Sink, make_client
from monitor.store import Store, open_store
from monitor.telemetry import start_export

if TYPE_CHECKING:
    from monitor.api.server import ApiThread

log = logging.getLogger("brownout")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--http", metavar="HOST:PORT", help="serve the HTTP API (e.g. 127.0.0.1:8321)"
    )
    parser.add_argument("--region", metavar="R", help="the region this monitor probes from")
    parser.add_argument(
        "--duration",
        metavar="D",
        help="stop by itself after D (e.g. 30s); default: run until stopped",
    )
    parser.add_argument(
        "--grace",
        metavar="D",
        default="10s",
        help="how long in-flight probes may finish at shutdown",
    )


def parse_hostport(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep:
        host, port = "127.0.0.1", text
    try:
        number = int(port)
    except ValueError:
        raise UsageError(f"--http wants HOST:PORT, got {text!r}") from None
    if not 0 <= number <= 65535:
        raise UsageError(f"port {number} is out of range")
    return host.strip("[]") or "127.0.0.1", number


def run(args: argparse.Namespace) -> int:
    # Every refusal comes before anything is logged, restored or started: it is one sentence.
    config = load_config(args.config)
    if args.region:
        config = config.model_copy(update={"region": args.region})
    http = parse_hostport(args.http) if args.http else None
    duration = _duration("--duration", args.duration) if args.duration else None
    grace = _duration("--grace", args.grace)
    if http is not None:
        _check_listen(*http)
    if config.budget.usd_per_day is not None or config.budget.tokens_per_day is not None:
        check_budget(config, daily_cost(config, measured_history(config)[0]))
    for warning in config.warnings:
        log.warning("%s", warning)
    if not config.targets():
        log.warning(
            "no targets configured (is any provider's API key set?); serving what is stored"
        )
    store = open_store(config.storage.url)
    try:
        asyncio.run(serve_monitor(config, store, http=http, duration=duration, grace=grace))
    finally:
        store.close()
    return 0


def _duration(option: str, text: str) -> float:
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise UsageError(f"{option}: {exc}") from None


def _check_listen(host: str, port: int) -> None:
    """Refuse at once what `serve` would refuse later: a public address without a token, or an
    address that cannot be bound now (taken, not ours)."""
    import socket

    from monitor.api.server import TOKEN_ENV, api_token, is_loopback

    if not is_loopback(host) and not api_token():
        raise UsageError(f"serving the API on {host} needs a token: set {TOKEN_ENV}")
    if port == 0:
        return
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            raise UsageError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None


async def serve_monitor(
    config: Config,
    store: Store,
    *,
    http: tuple[str, int] | None = None,
    duration: float | None = None,
    grace: float = 10.0,
    stop: asyncio.Event | None = None,
    leadership: Leadership | None = None,
    sinks: Sequence[Sink] = (),
) -> None:
    """Run the monitor until `stop` is set, a signal arrives, or `duration` has passed.

    Every monitor probes and stores; the one holding the database's lease also runs detection,
    incidents and alerts (`monitor.pipeline.leader`). `leadership` defaults to `Leadership(config, store)`;
    `sinks` see each batch this monitor stores (the demo's live table).
    """
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        # Not possible outside the main thread (tests, the demo): they pass `stop` instead.
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    async with make_client(config) as client:
        if leadership is None:
            leadership = Leadership(config, store)
        export = start_export(config, store)  # OpenTelemetry, when OTEL_* or `otel:` say so
        exported = [export] if export is not None else []
        monitor = Monitor(config, store, client, sinks=[leadership, *sinks, *exported])
        scheduler = Scheduler(
            monitor, grace=grace, periodic=leadership.periodic(monitor.in_pipeline, client)
        )
        api = None
        if http is not None:
            api = await asyncio.to_thread(_start_api, config, store, monitor, leadership, http)
        await leadership.start(monitor.in_pipeline, client)
        # Everything loaded so far lives as long as the process: move it out of the collector's
        # sight, so full collections stay short and do not stall timing (bench/ttft_accuracy.py).
        gc.collect()
        gc.freeze()
        scheduler.start()
        log.info(
            "probing %d target(s) every %s; storing in %s%s%s",
            len(config.targets()),
            format_duration(config.schedule.interval),
            make_url(config.storage.url).render_as_string(hide_password=True),
            f"; HTTP API on http://{http[0]}:{http[1]}" if http else "",
            f"; OpenTelemetry metrics to {export.settings.shown}" if export is not None else "",
        )
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=duration)
        log.info("stopping")
        await scheduler.stop()
        await monitor.close(within=grace)
        await leadership.stop()
        if export is not None:
            await asyncio.to_thread(export.close)
        if api is not None:
            await asyncio.to_thread(api.stop)


def _start_api(
    config: Config, store: Store, monitor: Monitor, leadership: Leadership, http: tuple[str, int]
) -> ApiThread:
    """Start the HTTP API in its own thread and event loop, off the probes' clock; returns once
    it listens. A bind or token problem raises here (UsageError)."""
    from monitor.api.server import ApiThread, build_app

    def health() -> dict[str, Any]:
        return {**monitor.health.as_dict(), "leadership": leadership.as_dict()}

    api = ApiThread(build_app(store, config, health=health), *http)
    api.start()
    return api
