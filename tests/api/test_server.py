"""The server: health, the bearer token, the bind rule, badges."""

from __future__ import annotations

import asyncio
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from monitor.api.badges import badge
from monitor.api.server import build_app, is_loopback, serve
from monitor.config import Config
from monitor.errors import UsageError
from monitor.store import Store, open_store
from tests.factories import TARGETS, Seed

Serve = Callable[[Starlette], str]
SVG_NS = "{http://www.w3.org/2000/svg}"


def test_healthz_is_ok_when_the_database_answers_and_the_runner_is_alive(
    store: Store, config: Config, serve_app: Serve
) -> None:
    url = serve_app(
        build_app(store, config, token="", health=lambda: {"ok": True, "last_probe_age_s": 12.5})
    )

    response = httpx.get(f"{url}/healthz")

    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "database": "ok",
        "leader": None,  # no monitor has led on this database
        "runner": {"ok": True, "last_probe_age_s": 12.5},
    }


@pytest.mark.parametrize(
    ("report", "problem"),
    [
        ({"ok": False}, "the runner reports a problem"),
        ({"scheduler_running": False, "last_probe_age_s": 1.0}, "the scheduler is not running"),
        ({"scheduler_running": True, "last_probe_age_s": 400.0}, "no probe stored for 6m40s"),
    ],
)
def test_healthz_fails_when_the_runner_is_unwell(
    store: Store, config: Config, serve_app: Serve, report: dict[str, object], problem: str
) -> None:
    url = serve_app(build_app(store, config, token="", health=lambda: report))

    response = httpx.get(f"{url}/healthz")

    assert response.status_code == 503
    assert response.json()["status"] == "failing"
    assert response.json()["problems"] == [problem]


def test_a_token_protected_api_refuses_requests_without_the_token(
    store: Store, config: Config, serve_app: Serve
) -> None:
    url = serve_app(build_app(store, config, token="s3cret-token"))

    for path in (
        "/api/status",
        "/metrics",
        "/api/route",
        f"/badge/{TARGETS[0]}.svg",
        "/openapi.json",
    ):
        refused = httpx.get(url + path)
        assert refused.status_code == 401, path
        assert refused.headers["www-authenticate"].startswith("Bearer")
        assert httpx.get(url + path, headers={"authorization": "Bearer wrong"}).status_code == 401
        assert (
            httpx.get(url + path, headers={"authorization": "Bearer s3cret-token"}).status_code
            == 200
        )
    assert httpx.get(f"{url}/healthz").status_code == 200


def test_the_token_is_read_from_the_environment(
    store: Store, config: Config, serve_app: Serve, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BROWNOUT_API_TOKEN", "from-env")
    url = serve_app(build_app(store, config))

    assert httpx.get(f"{url}/api/status").status_code == 401
    assert (
        httpx.get(f"{url}/api/status", headers={"authorization": "Bearer from-env"}).status_code
        == 200
    )


async def test_serving_beyond_loopback_without_a_token_is_refused(
    store: Store, config: Config
) -> None:
    app = build_app(store, config, token="")

    with pytest.raises(UsageError, match="BROWNOUT_API_TOKEN"):
        await serve(app, "0.0.0.0", 0)


async def test_serve_stops_cleanly_when_cancelled(store: Store, config: Config) -> None:
    ports: list[int] = []
    listening = asyncio.Event()

    def ready(port: int) -> None:
        ports.append(port)
        listening.set()

    task = asyncio.create_task(
        serve(build_app(store, config, token=""), "127.0.0.1", 0, ready=ready)
    )
    await listening.wait()
    async with httpx.AsyncClient() as client:
        assert (await client.get(f"http://127.0.0.1:{ports[0]}/healthz")).status_code == 200
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    with pytest.raises(httpx.ConnectError):
        async with httpx.AsyncClient() as client:
            await client.get(f"http://127.0.0.1:{ports[0]}/healthz")


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("::1", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("192.168.1.4", False),
        ("example.org", False),
    ],
)
def test_which_hosts_count_as_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def _svg(text: str) -> ET.Element:
    root = ET.fromstring(text)
    assert root.tag == f"{SVG_NS}svg"
    return root


def _texts(root: ET.Element) -> list[str]:
    return [t.text or "" for t in root.iter(f"{SVG_NS}text")]


@pytest.mark.parametrize(
    ("outcomes", "word", "colour"),
    [
        (["ok"] * 4, "operational", "#4c1"),
        (["overloaded"] * 4, "down", "#e05d44"),
        (["ok", "ok", "timeout", "ok"], "degraded", "#dfb317"),
    ],
)
def test_the_status_badge_is_an_svg_in_the_status_colour(
    api: str, seed: Seed, outcomes: list[str], word: str, colour: str
) -> None:
    seed(TARGETS[2], outcomes)

    response = httpx.get(f"{api}/badge/{TARGETS[2]}.svg")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("image/svg+xml")
    root = _svg(response.text)
    assert _texts(root)[-1] == word
    assert _texts(root)[0] == TARGETS[2]
    assert any(r.get("fill") == colour for r in root.iter(f"{SVG_NS}rect"))


def test_the_uptime_badge_shows_availability_over_the_window(api: str, seed: Seed) -> None:
    seed("openai/gpt-4o-mini", ["ok"] * 7 + ["server_error"] + ["rate_limited"] * 2)

    root = _svg(
        httpx.get(f"{api}/badge/openai/gpt-4o-mini/uptime.svg", params={"window": "7d"}).text
    )

    # minutes of data, not a week: the label says so
    assert re.fullmatch(r"uptime 7d \((5|6|7)m of data\)", _texts(root)[0])
    assert _texts(root)[-1] == "90%"  # rate limits are not outages
    assert (
        httpx.get(f"{api}/badge/openai/gpt-4o-mini/uptime.svg", params={"window": "x"}).status_code
        == 400
    )


def test_badge_text_is_escaped() -> None:
    root = _svg(badge("<a&b>", '"quoted"', "#4c1"))

    assert _texts(root)[0] == "<a&b>"


def test_a_database_that_fails_gives_503_not_a_traceback(
    tmp_path: Path, config: Config, serve_app: Serve
) -> None:
    store = open_store(f"sqlite:///{tmp_path}/gone.db")
    url = serve_app(build_app(store, config, token=""))
    store.close()
    for name in ("gone.db", "gone.db-wal", "gone.db-shm"):
        (tmp_path / name).unlink(missing_ok=True)

    status = httpx.get(f"{url}/api/status")
    health = httpx.get(f"{url}/healthz")

    assert status.status_code == 503
    assert status.json() == {"error": "the database is not available"}
    assert health.status_code == 503
    assert health.json()["problems"] == ["the database does not answer"]
