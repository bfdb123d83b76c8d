"""The public surfaces: badges, `/public/status.json` and the incident feeds, served without the
token when `api.public` says so, under the page's public-mode rules."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import feedparser  # type: ignore[import-untyped]
import httpx
import pytest
from starlette.applications import Starlette

from monitor.api.server import build_app
from monitor.config import Config, load_config
from monitor.errors import ConfigError
from monitor.result import Outcome, parse_ts, utcnow
from monitor.store import Store
from tests.factories import SECRET, TARGETS, Seed, api_config, config_file, probe, seed_incident
from tests.factories import seed as store_results

Serve = Callable[[Starlette], str]
TOKEN = "test-key-public-surfaces"
ATOM = "{http://www.w3.org/2005/Atom}"
SVG_NS = "{http://www.w3.org/2000/svg}"


def _app(store: Store, serve_app: Serve, public: list[str]) -> str:
    return serve_app(build_app(store, api_config(api={"public": public}), token=TOKEN))


def test_public_surfaces_need_no_token_when_the_config_marks_them_public(
    store: Store, serve_app: Serve, seed: Seed
) -> None:
    seed(TARGETS[0], ["ok"] * 4)
    url = _app(store, serve_app, ["badges", "status", "feed"])

    for path in (
        "/public/status.json",
        f"/badge/{TARGETS[0]}.svg",
        f"/badge/{TARGETS[0]}/uptime.svg",
        "/public/incidents.atom",
        "/public/providers/openai/incidents.rss",
    ):
        assert httpx.get(f"{url}{path}").status_code == 200, path
    for path in ("/api/status", "/api/route", "/metrics", "/openapi.json"):
        assert httpx.get(f"{url}{path}").status_code == 401, path


def test_public_surfaces_keep_needing_the_token_unless_marked(
    store: Store, serve_app: Serve, seed: Seed
) -> None:
    seed(TARGETS[0], ["ok"] * 4)
    url = _app(store, serve_app, ["badges"])
    auth = {"authorization": f"Bearer {TOKEN}"}

    assert httpx.get(f"{url}/badge/{TARGETS[0]}.svg").status_code == 200
    for path in ("/public/status.json", "/public/incidents.atom", "/public/incidents.rss"):
        assert httpx.get(f"{url}{path}").status_code == 401, path
        assert httpx.get(f"{url}{path}", headers=auth).status_code == 200, path


def test_the_public_status_shows_statuses_and_figures_but_no_answers_errors_costs_or_keys(
    store: Store, api: str, seed: Seed
) -> None:
    seed(TARGETS[0], ["ok"] * 6, answer="answer-text-zebra")
    now = utcnow()
    failed = [
        probe(now - timedelta(minutes=i), TARGETS[1], outcome=Outcome.OVERLOADED,
              http_status=503, error="error-text-walrus " + SECRET)
        for i in range(1, 7)
    ]  # fmt: skip
    store_results(store, failed)
    seed_incident(store, TARGETS[1], [(utcnow() - timedelta(minutes=4), "down")])

    response = httpx.get(f"{api}/public/status.json")

    assert response.status_code == 200
    body = response.json()
    by_target = {t["target"]: t for t in body["targets"]}
    assert by_target[TARGETS[0]]["status"] == "operational"
    assert by_target[TARGETS[1]]["status"] == "down"
    assert by_target[TARGETS[0]]["figures"]["ttft_p50_ms"] == pytest.approx(300, rel=0.02)
    assert by_target[TARGETS[0]]["uptime"]["24h"] == 1.0
    assert [i["target"] for i in body["open_incidents"]] == [TARGETS[1]]
    assert body["open_incidents"][0]["id"].startswith("urn:uuid:")
    text = response.text
    for hidden in ("answer-text-zebra", "error-text-walrus", SECRET, "cost", "price", "base_url"):
        assert hidden not in text
    assert "details" not in by_target[TARGETS[1]]


def _incidents(store: Store) -> dict[str, object]:
    now = utcnow().replace(microsecond=0)
    start = now - timedelta(hours=2)
    resolved = seed_incident(
        store,
        TARGETS[0],
        [(start, "degraded"), (start + timedelta(minutes=20), "operational")],
        ["latency", "ttft"],
    )
    escalated = seed_incident(
        store,
        "anthropic/a&b<c>",
        [(now - timedelta(minutes=30), "degraded"), (now - timedelta(minutes=10), "down")],
    )
    return {"resolved": resolved, "escalated": escalated, "now": now}


@pytest.mark.parametrize("kind", ["atom", "rss"])
def test_the_incident_feed_is_valid_to_a_real_feed_parser(
    store: Store, api: str, kind: str
) -> None:
    made = _incidents(store)

    first = httpx.get(f"{api}/public/incidents.{kind}")
    again = httpx.get(f"{api}/public/incidents.{kind}")

    assert first.status_code == 200
    assert first.headers["content-type"].startswith(f"application/{kind}+xml")
    parsed = feedparser.parse(first.text)
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    assert parsed.version == ("atom10" if kind == "atom" else "rss20")
    titles = [e.title for e in parsed.entries]
    # newest first; the target's `&` and `<` survive escaping
    assert titles == [
        "anthropic/a&b<c> down (errors): ongoing",
        f"{TARGETS[0]} degraded (latency, ttft): resolved",
    ]
    assert "a&amp;b&lt;c&gt;" in first.text
    ids = [e.id for e in parsed.entries]
    assert ids == [e.id for e in feedparser.parse(again.text).entries]  # stable GUIDs
    assert len(set(ids)) == 2 and all(i.startswith("urn:uuid:") for i in ids)
    escalated = parsed.entries[0]
    down_at = made["now"] - timedelta(minutes=10)  # type: ignore[operator]
    assert parse_ts(escalated.updated) == down_at  # it changed when it went down
    resolved = parsed.entries[1]
    assert parse_ts(resolved.updated) == made["resolved"].end  # type: ignore[attr-defined]


def test_the_atom_feed_has_every_element_rfc_4287_requires(store: Store, api: str) -> None:
    _incidents(store)

    root = ET.fromstring(httpx.get(f"{api}/public/incidents.atom").content)

    assert root.tag == f"{ATOM}feed"
    for tag in ("id", "title", "updated", "author/{*}name"):
        assert root.find(f"{ATOM}{tag}") is not None, tag
    entries = root.findall(f"{ATOM}entry")
    assert len(entries) == 2
    for entry in entries:
        for tag in ("id", "title", "updated", "content"):
            assert (entry.findtext(f"{ATOM}{tag}") or "").strip(), tag


def test_the_rss_feed_has_every_element_rss_2_requires(store: Store, api: str) -> None:
    _incidents(store)

    root = ET.fromstring(httpx.get(f"{api}/public/incidents.rss").content)

    assert root.tag == "rss" and root.get("version") == "2.0"
    channel = root.find("channel")
    assert channel is not None
    for tag in ("title", "link", "description"):
        assert (channel.findtext(tag) or "").strip(), tag
    for item in channel.findall("item"):
        assert item.findtext("title") and item.findtext("description")
        guid = item.find("guid")
        assert guid is not None and guid.get("isPermaLink") == "false"


def test_a_provider_feed_holds_only_that_providers_incidents(store: Store, api: str) -> None:
    _incidents(store)

    parsed = feedparser.parse(httpx.get(f"{api}/public/providers/openai/incidents.atom").text)

    assert [e.title.split()[0] for e in parsed.entries] == [TARGETS[0]]
    assert parsed.feed.title == "brownout incidents: openai"


def test_an_old_incident_leaves_the_feed_by_since(store: Store, api: str) -> None:
    _incidents(store)

    parsed = feedparser.parse(
        httpx.get(f"{api}/public/incidents.atom", params={"since": "1h"}).text
    )

    assert [e.title.split()[0] for e in parsed.entries] == ["anthropic/a&b<c>"]


@pytest.mark.parametrize(
    ("path", "status", "message"),
    [
        ("/public/incidents.atom?since=soon", 400, "since must be a duration"),
        ("/public/incidents.atom?since=0s", 400, "since must be more than 0"),
        ("/public/providers/nope/incidents.atom", 404, "unknown provider 'nope'"),
        ("/public/incidents.json", 404, "no feed format 'json'"),
    ],
)
def test_a_feed_request_that_cannot_be_answered_says_why_in_one_sentence(
    api: str, path: str, status: int, message: str
) -> None:
    response = httpx.get(f"{api}{path}")

    assert response.status_code == status
    assert response.json()["error"].startswith(message)


@pytest.mark.parametrize(
    ("path", "label"),
    [
        ("/badge/openai/nope.svg", "openai/nope"),
        ("/badge/nobody/model/uptime.svg?window=7d", "uptime 7d"),
    ],
)
def test_an_unknown_targets_badge_is_a_grey_unknown_badge_not_a_json_404(
    api: str, path: str, label: str
) -> None:
    response = httpx.get(f"{api}{path}")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("image/svg+xml")
    assert response.headers["x-brownout-badge"] == "unknown-target"
    root = ET.fromstring(response.text)
    texts = [t.text for t in root.iter(f"{SVG_NS}text")]
    assert texts[0] == label and texts[-1] == "unknown"
    assert any(r.get("fill") == "#9f9f9f" for r in root.iter(f"{SVG_NS}rect"))


@pytest.mark.parametrize(
    ("public", "message"),
    [
        ("[badges, answers]", "api.public.1: Input should be 'badges', 'status' or 'feed'"),
        ("[feed, feed]", "api.public: listed more than once: feed"),
    ],
)
def test_api_public_is_checked_strictly(tmp_path: Path, public: str, message: str) -> None:
    path = tmp_path / "probes.yaml"
    path.write_text(f"providers: {{}}\ncanaries: []\napi:\n  public: {public}\n")

    with pytest.raises(ConfigError) as caught:
        load_config(str(path), env={})

    assert any(message in p for p in caught.value.problems), caught.value.problems
    assert any(p.startswith(f"{path}:4:") for p in caught.value.problems)


def test_api_public_loads_from_yaml(tmp_path: Path) -> None:
    config = config_file(tmp_path, {"api": {"public": ["badges", "feed"]}})

    assert config.api.public == ["badges", "feed"]
    assert Config().api.public == []  # nothing is public unless the operator says so
