"""The API over PostgreSQL as over SQLite: the same answers from the same stored results."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import httpx
from prometheus_client.parser import text_string_to_metric_families
from starlette.applications import Starlette

from monitor.api.server import build_app
from monitor.config import Config
from monitor.result import utcnow
from monitor.store import Store
from monitor.store import results as stored
from tests.factories import TARGETS, probe


def test_status_history_route_metrics_and_badges_on_either_database(
    any_store: Store, config: Config, serve_app: Callable[[Starlette], str]
) -> None:
    now = utcnow()
    stored.record(
        any_store,
        [
            *(
                probe(now - timedelta(minutes=2 + i), TARGETS[0], ttft_ms=200.0 + i)
                for i in range(6)
            ),
            *(
                probe(now - timedelta(minutes=2 + i), TARGETS[1], outcome="overloaded")
                for i in range(6)
            ),
            *(
                probe(
                    now - timedelta(minutes=2 + i), TARGETS[2], outcome="ok" if i % 4 else "timeout"
                )
                for i in range(8)
            ),
        ],
    )
    url = serve_app(build_app(any_store, config, token=""))

    with httpx.Client(base_url=url) as client:
        status = client.get("/api/status").json()
        history = client.get(
            f"/api/targets/{TARGETS[2]}/history", params={"since": "1h", "step": "15m"}
        ).json()
        route = client.get("/api/route", params={"family": "all"}).json()
        metrics = client.get("/metrics").text
        uptime = client.get(f"/badge/{TARGETS[2]}/uptime.svg").text

    assert {t["target"]: t["status"] for t in status["targets"]} == {
        TARGETS[0]: "operational",
        TARGETS[1]: "down",
        TARGETS[2]: "degraded",
    }
    assert sum(p["probes"] for p in history["points"]) == 8
    assert [t["target"] for t in route["targets"]] == [TARGETS[0], TARGETS[2]]
    samples = [s for f in text_string_to_metric_families(metrics) for s in f.samples]
    ok = [
        s.value
        for s in samples
        if s.name == "brownout_probes_total"
        and s.labels["outcome"] == "ok"
        and s.labels["provider"] == "openai"
    ]
    assert ok == [6.0]
    assert ">75%<" in uptime
