"""`/api/status`, `/api/incidents` and target history over real HTTP."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from monitor.detect.types import IncidentRecord, Status, TargetStatus
from monitor.result import format_ts, parse_ts, utcnow
from monitor.store import Store
from tests.factories import SECRET, TARGETS, Seed


def _by_target(body: dict) -> dict[str, dict]:
    return {t["target"]: t for t in body["targets"]}


def test_status_shows_a_failing_target_down_and_a_flaky_one_degraded(api: str, seed: Seed) -> None:
    seed("openai/gpt-4o-mini", ["ok"] * 6)
    seed("anthropic/claude-haiku-4-5", ["overloaded"] * 6)
    seed(TARGETS[2], ["ok", "timeout", "ok", "ok", "server_error", "ok"])

    body = httpx.get(f"{api}/api/status").json()

    targets = _by_target(body)
    assert targets["openai/gpt-4o-mini"]["status"] == "operational"
    assert targets["anthropic/claude-haiku-4-5"]["status"] == "down"
    assert targets["anthropic/claude-haiku-4-5"]["reasons"] == ["errors"]
    assert targets[TARGETS[2]]["status"] == "degraded"
    assert targets[TARGETS[2]]["figures"]["success_ratio"] == pytest.approx(4 / 6, abs=1e-3)
    assert body["status"] == "down"
    assert body["fleet"]["counts"]["down"] == 1


def test_a_target_without_recent_probes_is_unknown(api: str, seed: Seed) -> None:
    seed("openai/gpt-4o-mini", ["ok"] * 3, ago=120)

    targets = _by_target(httpx.get(f"{api}/api/status").json())

    assert targets["openai/gpt-4o-mini"]["status"] == "unknown"
    assert targets["openai/gpt-4o-mini"]["reasons"] == ["stale"]


@pytest.mark.parametrize(("step", "points"), [("10m", (6, 7)), ("90s", (40, 41))])  # rollups; raw
def test_history_of_a_model_whose_name_holds_a_slash(
    api: str, seed: Seed, step: str, points: tuple[int, int]
) -> None:
    seed(TARGETS[2], ["ok", "ok", "timeout"], ago=2)

    for path in (TARGETS[2], TARGETS[2].replace("meta-llama/", "meta-llama%2F")):
        response = httpx.get(
            f"{api}/api/targets/{path}/history", params={"since": "1h", "step": step}
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["target"] == TARGETS[2]
        assert len(body["points"]) in points  # 1h in steps, aligned to whole steps
        assert sum(p["probes"] for p in body["points"]) == 3
        assert sum(p["outcomes"].get("timeout", 0) for p in body["points"]) == 1
        assert max(p["ttft_p50_ms"] or 0 for p in body["points"]) == pytest.approx(300, rel=0.25)


def test_history_buckets_start_on_whole_steps(api: str, seed: Seed) -> None:
    seed("openai/gpt-4o-mini", ["ok"])

    body = httpx.get(
        f"{api}/api/targets/openai/gpt-4o-mini/history", params={"since": "3h", "step": "1h"}
    ).json()

    assert all(p["ts"].endswith(":00:00.000Z") for p in body["points"])
    assert sum(p["probes"] for p in body["points"]) == 1


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/api/targets/openai/no-such-model/history", 404),
        ("/api/targets/openai/gpt-4o-mini/history?since=yesterday", 400),
        ("/api/targets/openai/gpt-4o-mini/history?since=1h&until=2h", 400),
        ("/api/targets/openai/gpt-4o-mini/history?since=30d&step=1s", 400),
        ("/api/incidents?since=soon", 400),
        ("/api/nothing-here", 404),
    ],
)
def test_bad_requests_get_a_clear_error(api: str, path: str, status: int) -> None:
    response = httpx.get(api + path)

    assert response.status_code == status
    assert response.json()["error"]


def test_the_api_is_read_only(api: str) -> None:
    for method in ("POST", "PUT", "DELETE", "PATCH"):
        assert httpx.request(method, f"{api}/api/status").status_code == 405


def test_incidents_lists_those_overlapping_the_window(api: str, store: Store) -> None:
    from monitor.store.detection import save_detection

    t = parse_ts("2026-11-20T12:00:00Z")
    save_detection(
        store,
        incidents=[
            IncidentRecord(
                TARGETS[0], t - timedelta(days=3), Status.DOWN, t - timedelta(days=2), ["errors"]
            ),
            IncidentRecord(TARGETS[0], t, Status.DEGRADED, t + timedelta(hours=1), ["latency"]),
            IncidentRecord(TARGETS[2], t + timedelta(days=1), Status.DOWN, None, ["errors"]),
        ],
    )

    body = httpx.get(f"{api}/api/incidents", params={"since": "2026-11-19T00:00:00Z"}).json()
    only = httpx.get(
        f"{api}/api/incidents", params={"since": "2026-11-19", "target": TARGETS[2]}
    ).json()

    assert body["since"] == "2026-11-19T00:00:00.000Z"
    assert [(i["target"], i["worst"], i["end"]) for i in body["incidents"]] == [
        (TARGETS[0], "degraded", "2026-11-20T13:00:00.000Z"),
        (TARGETS[2], "down", None),
    ]
    assert [i["target"] for i in only["incidents"]] == [TARGETS[2]]
    assert all(i["lead_time"] is None for i in body["incidents"])  # no status page configured


def test_no_response_holds_a_secret(api: str, seed: Seed) -> None:
    for target in TARGETS:
        seed(target, ["ok", "auth_error"])
    paths = [
        "/healthz",
        "/api/status",
        "/api/incidents",
        "/api/route",
        "/api/route?family=all",
        f"/api/targets/{TARGETS[0]}/history",
        f"/badge/{TARGETS[0]}.svg",
        f"/badge/{TARGETS[0]}/uptime.svg",
        "/metrics",
        "/openapi.json",
        "/openapi.yaml",
    ]
    for path in paths:
        response = httpx.get(api + path)
        assert response.status_code == 200, path
        assert SECRET not in response.text, path
        assert SECRET[:12] not in response.text, path


def test_the_detectors_status_wins_over_the_plain_rule(api: str, store: Store, seed: Seed) -> None:
    from monitor.store.detection import save_detection

    seed("openai/gpt-4o-mini", ["ok"] * 4)
    seed("anthropic/claude-haiku-4-5", ["ok"] * 4)
    latency = {"latency": {"value_ms": 2400.0, "baseline_ms": 800.0, "ratio": 3.0}}
    since = utcnow() - timedelta(minutes=3)
    save_detection(
        store,
        statuses=[TargetStatus("openai/gpt-4o-mini", Status.DEGRADED, since, ["latency"], latency)],
    )

    body = httpx.get(f"{api}/api/status").json()

    targets = _by_target(body)
    assert targets["openai/gpt-4o-mini"]["status"] == "degraded"
    assert targets["openai/gpt-4o-mini"]["source"] == "detector"
    assert targets["openai/gpt-4o-mini"]["details"] == latency
    assert targets["openai/gpt-4o-mini"]["since"] == format_ts(since)
    assert targets["anthropic/claude-haiku-4-5"]["source"] == "probes"
    assert body["source"] == "mixed"


def test_the_baseline_says_how_much_of_its_day_has_data(api: str, seed: Seed) -> None:
    seed("openai/gpt-4o-mini", ["ok"] * 20, ago=120)  # two hours of history before the window
    seed("anthropic/claude-haiku-4-5", ["ok"] * 3)  # nothing before the recent window

    body = httpx.get(f"{api}/api/status").json()

    targets = _by_target(body)
    openai = targets["openai/gpt-4o-mini"]["baseline"]
    assert openai["probes"] == 20
    # From its first minute (~130 min ago) to the start of the 10-minute recent window.
    assert 119 * 60 <= openai["coverage_s"] <= 121 * 60
    anthropic = targets["anthropic/claude-haiku-4-5"]["baseline"]
    assert anthropic["probes"] == 0 and anthropic["coverage_s"] == 0.0
