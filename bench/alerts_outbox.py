"""Alerts: the cost of deciding (on_transitions), and the outbox's delivery rate through Apprise
to a webhook receiver on loopback (a thread in this process, so the figure is a floor).

    .venv/bin/python -m bench.alerts_outbox [N]      # N transitions, default 500
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from monitor.alerts.service import AlertService
from monitor.config import Config
from monitor.detect.types import Status, Transition
from monitor.store import open_store, outbox


def _receiver() -> tuple[ThreadingHTTPServer, list[int]]:
    got: list[int] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            got.append(1)
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, got


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    server, got = _receiver()
    url = f"json://127.0.0.1:{server.server_address[1]}/hook"
    now = datetime(2026, 11, 28, 10, tzinfo=UTC)
    errors = {"errors": {"rate": 0.9, "baseline_rate": 0.01}}
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(f"sqlite:///{Path(tmp) / 'bench.db'}")
        channel = {"name": "oncall", "urls": [url], "group_wait": 0, "cooldown": 0}
        service = AlertService(store, Config.model_validate({"alerts": [channel]}), lambda: now)
        flips = [
            Transition(now, f"p{i}/m", Status.OPERATIONAL, Status.DOWN, ["errors"], errors)
            for i in range(n)
        ]
        start = time.perf_counter()
        for t in flips:
            service.on_transitions([t])
        decided = time.perf_counter() - start
        start = time.perf_counter()
        delivered = 0
        while outbox.counts(store).get("pending"):
            delivered += asyncio.run(service.deliver_due())
        sent = time.perf_counter() - start
        print(f"decide: {1000 * decided / n:.2f} ms per transition ({n} transitions, SQLite)")
        print(
            f"deliver: {delivered} messages in {sent:.2f} s = {delivered / sent:.0f}/s "
            f"({1000 * sent / delivered:.1f} ms each); receiver got {len(got)}"
        )

        grouped = {"name": "fleet", "urls": [url], "group_wait": "30s"}
        fleet = AlertService(store, Config.model_validate({"alerts": [grouped]}), lambda: now)
        fleet.on_transitions(
            [Transition(now, f"q{i}/m", Status.OPERATIONAL, Status.DEGRADED) for i in range(50)]
        )
        before = len(got)
        now += timedelta(seconds=30)
        asyncio.run(fleet.deliver_due())
        print(f"fleet: 50 providers degrading within group_wait -> {len(got) - before} message(s)")
        store.close()
    server.shutdown()


if __name__ == "__main__":
    main()
