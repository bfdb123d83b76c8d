"""The providers' own status pages: polled from a local server serving Statuspage-shaped JSON,
stored, and set beside brownout's incidents (lead time)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from starlette.applications import Starlette

from monitor.api.server import build_app
from monitor.config import Config, load_config
from monitor.detect.types import IncidentRecord, Status
from monitor.errors import ConfigError
from monitor.pipeline.statuspages import poll_statuspages
from monitor.result import format_ts, parse_ts, utcnow
from monitor.statuspages.atlassian import parse_components, parse_incidents
from monitor.statuspages.leadtime import match
from monitor.statuspages.model import OfficialIncident
from monitor.store import Store
from monitor.store import statuspages as official
from tests.factories import (
    GOOGLE_CLOUD_INCIDENTS,
    INCIDENTIO_WIDGET,
    INSTATUS_COMPONENTS,
    INSTATUS_SUMMARY,
    api_config,
)

PAGE = {
    "id": "tymt9n04zgry",
    "name": "Anthropic",
    "url": "https://status.anthropic.com",
    "time_zone": "Etc/UTC",
    "updated_at": "2026-11-28T10:41:03.134Z",
}


def component(cid: str, name: str, status: str, *, group: bool = False) -> dict[str, Any]:
    return {
        "id": cid,
        "name": name,
        "status": status,
        "created_at": "2023-07-11T17:47:46.257Z",
        "updated_at": "2026-11-28T10:41:03.121Z",
        "position": 1,
        "description": None,
        "showcase": False,
        "start_date": "2023-07-11",
        "group_id": None if group else "grp1",
        "page_id": PAGE["id"],
        "group": group,
        "only_show_if_degraded": False,
        **({"components": ["k8w3r06qmzrp"]} if group else {}),
    }


def incident(
    iid: str,
    name: str,
    created: str,
    status: str = "investigating",
    resolved: str | None = None,
    affects: str = "Claude API (api.anthropic.com)",
) -> dict[str, Any]:
    return {
        "id": iid,
        "name": name,
        "status": status,
        "created_at": created,
        "updated_at": created,
        "monitoring_at": None,
        "resolved_at": resolved,
        "impact": "major",
        "shortlink": f"https://stspg.io/{iid[:8]}",
        "started_at": created,
        "page_id": PAGE["id"],
        "incident_updates": [
            {
                "id": f"u{iid}",
                "status": status,
                "body": "We are investigating elevated errors.",
                "incident_id": iid,
                "created_at": created,
                "updated_at": created,
                "display_at": created,
                "affected_components": [
                    {
                        "code": "k8w3r06qmzrp",
                        "name": affects,
                        "old_status": "operational",
                        "new_status": "partial_outage",
                    }
                ],
                "deliver_notifications": True,
                "custom_tweet": None,
                "tweet_id": None,
            }
        ],
        "components": [component("k8w3r06qmzrp", affects, "partial_outage")],
    }


def summary(incidents: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "page": PAGE,
        "components": [
            component("grp1", "Claude", "partial_outage", group=True),
            component("k8w3r06qmzrp", "Claude API (api.anthropic.com)", "partial_outage"),
            component("rwppv331jlwc", "claude.ai", "operational"),
        ],
        "incidents": [i for i in incidents if i["status"] not in ("resolved", "postmortem")],
        "scheduled_maintenances": [],
        "status": {"indicator": "major", "description": "Partial System Outage"},
    }


class StatusPageServer:
    """A local Statuspage: `/api/v2/summary.json` and `/api/v2/incidents.json` on 127.0.0.1."""

    def __init__(self) -> None:
        self.incidents: list[dict[str, Any]] = []
        self.broken = False
        pages = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if pages.broken:
                    self.send_response(502)
                    self.end_headers()
                    return
                if self.path == "/api/v2/summary.json":
                    body = summary(pages.incidents)
                elif self.path == "/api/v2/incidents.json":
                    body = {"page": PAGE, "incidents": pages.incidents}
                else:
                    self.send_response(404)
                    self.end_headers()
                    return
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json; charset=utf-8")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/api/v2/summary.json"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def statuspage() -> Iterator[StatusPageServer]:
    server = StatusPageServer()
    yield server
    server.close()


def page_config(server: StatusPageServer) -> Config:
    return api_config(
        statuspages={"pages": {"anthropic": {"url": server.url, "components": ["Claude API*"]}}}
    )


async def test_polling_stores_components_and_incidents(
    statuspage: StatusPageServer, store: Store
) -> None:
    statuspage.incidents = [
        incident("p1", "Elevated errors on Claude Haiku", "2026-11-28T10:20:00.000Z"),
        incident("p2", "claude.ai login issues", "2026-11-28T10:25:00.000Z", affects="claude.ai"),
        incident(
            "p0",
            "Slow responses",
            "2026-11-27T08:00:00.000Z",
            "resolved",
            "2026-11-27T09:00:00.000Z",
        ),
    ]
    async with httpx.AsyncClient() as client:
        outcome = await poll_statuspages(client, store, page_config(statuspage))

    assert outcome == {"anthropic": None}
    components = official.components(store)
    assert [(c.name, c.status) for c in components] == [
        ("Claude API (api.anthropic.com)", "partial_outage")
    ]
    stored = official.incidents_between(store, parse_ts("2026-11-27T00:00:00Z"))
    assert [(i.incident_id, i.status) for i in stored] == [
        ("p0", "resolved"),
        ("p1", "investigating"),
    ]
    assert stored[1].components == ["Claude API (api.anthropic.com)"]


async def test_a_later_poll_updates_an_incident_once_resolved(
    statuspage: StatusPageServer, store: Store
) -> None:
    config = page_config(statuspage)
    statuspage.incidents = [incident("p1", "Elevated errors", "2026-11-28T10:20:00.000Z")]
    async with httpx.AsyncClient() as client:
        await poll_statuspages(client, store, config)
        statuspage.incidents = [
            incident(
                "p1",
                "Elevated errors",
                "2026-11-28T10:20:00.000Z",
                "resolved",
                "2026-11-28T11:00:00.000Z",
            )
        ]
        await poll_statuspages(client, store, config)

    [stored] = official.incidents_between(store, parse_ts("2026-11-28T00:00:00Z"))
    assert stored.status == "resolved"
    assert stored.resolved_at == parse_ts("2026-11-28T11:00:00Z")


async def test_a_page_that_cannot_be_read_is_reported_not_raised(
    statuspage: StatusPageServer, store: Store
) -> None:
    statuspage.broken = True
    async with httpx.AsyncClient() as client:
        outcome = await poll_statuspages(client, store, page_config(statuspage))

    assert outcome["anthropic"] is not None and "502" in outcome["anthropic"]
    assert official.components(store) == []


@pytest.mark.parametrize(
    "body",
    [[], {"components": "nope"}, {"incidents": {"a": 1}}],
)
def test_a_body_that_is_not_a_statuspage_is_refused(body: Any) -> None:
    with pytest.raises(ValueError, match="not a Statuspage document"):
        parse_components("x", body) + parse_incidents("x", body)  # type: ignore[operator]


def _posted(page: str, created: str) -> OfficialIncident:
    return OfficialIncident(page, "i", "errors", "investigating", "major", parse_ts(created))


@pytest.mark.parametrize(
    ("posted", "lead_s"),
    [
        (
            [_posted("anthropic", "2026-11-28T10:20:00Z")],
            1200.0,
        ),  # posted 20 minutes after we saw it
        ([_posted("anthropic", "2026-11-28T09:55:00Z")], -300.0),  # they were first
        ([_posted("anthropic", "2026-11-28T16:00:00Z")], None),  # too far apart to be the same
        ([_posted("openai", "2026-11-28T10:05:00Z")], None),  # another provider's page
        (
            [
                _posted("anthropic", "2026-11-28T10:30:00Z"),
                _posted("anthropic", "2026-11-28T10:10:00Z"),
            ],
            600.0,
        ),
    ],
)
def test_lead_time_pairs_our_incident_with_the_first_matching_post(
    posted: list[OfficialIncident], lead_s: float | None
) -> None:
    lead = match(
        "anthropic/claude-haiku-4-5",
        parse_ts("2026-11-28T10:00:00Z"),
        posted,
        {"anthropic": ["anthropic"], "openai": ["openai"]},
        timedelta(hours=3),
    )

    assert lead.lead_s == lead_s


async def test_incidents_show_the_lead_time_over_http(
    statuspage: StatusPageServer, store: Store, serve_app: Callable[[Starlette], str]
) -> None:
    from monitor.store.detection import save_detection

    seen = utcnow() - timedelta(minutes=40)
    statuspage.incidents = [
        incident("p1", "Elevated errors", format_ts(seen + timedelta(minutes=25)))
    ]
    config = page_config(statuspage)
    async with httpx.AsyncClient() as client:
        await poll_statuspages(client, store, config)
    save_detection(
        store,
        incidents=[
            IncidentRecord("anthropic/claude-haiku-4-5", seen, Status.DOWN, reasons=["errors"])
        ],
    )
    url = serve_app(build_app(store, config, token=""))

    async with httpx.AsyncClient() as client:
        body = (await client.get(f"{url}/api/incidents", params={"since": "2h"})).json()
        status = (await client.get(f"{url}/api/status")).json()
        metrics = (await client.get(f"{url}/metrics")).text

    [ours] = body["incidents"]
    assert ours["target"] == "anthropic/claude-haiku-4-5"
    assert ours["lead_time"]["lead_s"] == pytest.approx(25 * 60, abs=1)
    assert ours["lead_time"]["official"]["id"] == "p1"
    assert [o["id"] for o in body["official"]] == ["p1"]
    assert body["lead_time"] == {
        "compared": 1,
        "posted": 1,
        "never_posted": 0,
        "median_lead_s": pytest.approx(25 * 60, abs=1),
    }
    assert status["official"] == [
        {
            "page": "anthropic",
            "component": "Claude API (api.anthropic.com)",
            "status": "partial_outage",
            "updated_at": "2026-11-28T10:41:03.121Z",
        }
    ]
    samples = {s.name: s for f in text_string_to_metric_families(metrics) for s in f.samples}
    assert samples["brownout_official_open_incidents"].value == 1


def test_the_statuspages_section_loads_in_both_forms(tmp_path: Path) -> None:
    file = tmp_path / "probes.yaml"
    file.write_text(
        "statuspages:\n"
        "  interval: 2m\n"
        "  pages:\n"
        "    openai: https://status.openai.com/api/v2/summary.json\n"
        "    claude:\n"
        "      url: https://status.anthropic.com/api/v2/summary.json\n"
        "      providers: [anthropic]\n"
    )

    config = load_config(str(file), env={})

    assert config.statuspages.interval == 120
    assert config.statuspages.pages_for("openai") == ["openai"]
    assert config.statuspages.pages_for("anthropic") == ["claude"]


def test_a_status_page_url_that_is_not_json_is_a_config_problem(tmp_path: Path) -> None:
    file = tmp_path / "probes.yaml"
    file.write_text("statuspages:\n  pages:\n    openai: https://status.openai.com/\n")

    with pytest.raises(ConfigError) as caught:
        load_config(str(file), env={})

    assert caught.value.problems == [
        f"{file}:3: statuspages.pages.openai: url must be an http(s) URL of a page's JSON"
        " (…/summary.json, incidents.json), got 'https://status.openai.com/'; an incident.io"
        " widget URL needs format: incidentio"
    ]


class JsonServer:
    """Serves whatever body is set for a path, on 127.0.0.1."""

    def __init__(self) -> None:
        self.bodies: dict[str, Any] = {}
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path not in server.bodies:
                    self.send_response(404)
                    self.end_headers()
                    return
                data = json.dumps(server.bodies[self.path]).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def json_server() -> Iterator[JsonServer]:
    server = JsonServer()
    yield server
    server.close()


async def test_an_incidentio_incident_keeps_its_first_sighting_and_ends_when_it_leaves_the_list(
    json_server: JsonServer, store: Store
) -> None:
    json_server.bodies["/proxy/status.example.com"] = INCIDENTIO_WIDGET
    config = api_config(
        statuspages={
            "pages": {
                "openai": {
                    "url": f"{json_server.base}/proxy/status.example.com",
                    "format": "incidentio",
                }
            }
        }
    )
    times = iter(parse_ts(t) for t in ("2026-12-01T10:05:00Z", "2026-12-01T10:10:00Z"))
    async with httpx.AsyncClient() as client:
        for _ in range(2):
            at = next(times)
            assert await poll_statuspages(client, store, config, clock=lambda at=at: at) == {
                "openai": None
            }
        json_server.bodies["/proxy/status.example.com"] = {
            **INCIDENTIO_WIDGET,
            "ongoing_incidents": INCIDENTIO_WIDGET["ongoing_incidents"][1:],
        }
        ended_at = parse_ts("2026-12-01T10:15:00Z")
        await poll_statuspages(client, store, config, clock=lambda: ended_at)

    stored = {i.incident_id: i for i in official.incidents_between(store, parse_ts("2026-12-01"))}
    gone = stored["01JDX5A7KQ3V0ZC1M8N2P4R6T8"]
    assert gone.created_at == parse_ts("2026-12-01T10:05:00Z")  # the first poll, not the second
    assert gone.created_at_is_first_seen
    assert (gone.status, gone.resolved_at) == ("resolved", ended_at)
    still = stored["01JDX5B0000000000000000000"]
    assert (still.resolved_at, still.created_at) == (None, parse_ts("2026-12-01T09:30:00Z"))


async def test_google_clouds_page_is_read_for_the_products_configured(
    json_server: JsonServer, store: Store
) -> None:
    json_server.bodies["/incidents.json"] = GOOGLE_CLOUD_INCIDENTS
    config = api_config(
        statuspages={
            "pages": {
                "gemini": {
                    "url": f"{json_server.base}/incidents.json",
                    "components": ["Vertex Gemini*"],
                }
            }
        }
    )
    async with httpx.AsyncClient() as client:
        assert await poll_statuspages(client, store, config) == {"gemini": None}

    stored = official.incidents_between(store, parse_ts("2026-11-01"))
    assert [i.incident_id for i in stored] == ["mR3kQm1tZXd2Zk"]
    assert [(c.name, c.status) for c in official.components(store)] == [
        ("Vertex Gemini API", "partial_outage")
    ]


async def test_instatus_is_read_with_its_component_list(
    json_server: JsonServer, store: Store
) -> None:
    json_server.bodies["/summary.json"] = INSTATUS_SUMMARY
    json_server.bodies["/v2/components.json"] = INSTATUS_COMPONENTS
    config = api_config(statuspages={"pages": {"example": f"{json_server.base}/summary.json"}})
    async with httpx.AsyncClient() as client:
        assert await poll_statuspages(client, store, config) == {"example": None}

    assert [c.name for c in official.components(store)] == ["API", "Dashboard"]
    assert [i.name for i in official.incidents_between(store, parse_ts("2026-11-01"))] == [
        "API timeouts"
    ]


async def test_the_official_pages_grade_is_served_over_http(
    statuspage: StatusPageServer, store: Store, serve_app: Callable[[Starlette], str]
) -> None:
    from monitor.store.detection import save_detection

    seen = utcnow() - timedelta(days=2)
    statuspage.incidents = [
        incident(
            "p1",
            "Elevated errors",
            format_ts(seen + timedelta(minutes=20)),
            "resolved",
            format_ts(seen + timedelta(hours=1)),
        )
    ]
    config = page_config(statuspage)
    async with httpx.AsyncClient() as client:
        await poll_statuspages(client, store, config)
    target = "anthropic/claude-haiku-4-5"
    save_detection(
        store,
        incidents=[
            IncidentRecord(target, seen, Status.DOWN, end=seen + timedelta(hours=1)),
            IncidentRecord(
                target,
                seen + timedelta(days=1),
                Status.DEGRADED,
                end=seen + timedelta(days=1, minutes=30),
            ),
        ],
    )
    url = serve_app(build_app(store, config, token=""))

    async with httpx.AsyncClient() as client:
        body = (await client.get(f"{url}/api/official")).json()
        bad = await client.get(f"{url}/api/official", params={"since": "1h", "until": "2h"})

    assert body["grades"] == [
        {
            "provider": "anthropic",
            "pages": ["anthropic"],
            "events": 2,
            "posted": 1,
            "never_posted": 1,
            "posted_first": 0,
            "median_lead_s": pytest.approx(20 * 60, abs=1),
            "grade": "C",
        }
    ]
    assert [c["component"] for c in body["components"]] == ["Claude API (api.anthropic.com)"]
    assert bad.status_code == 400 and "until must be after since" in bad.text
