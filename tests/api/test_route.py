"""The transfer switch: the ranking core, `GET /api/route` and `brownout route`."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
import yaml

from monitor.cli import main
from monitor.detect.types import Status
from monitor.route import Candidate, rank
from monitor.store.probe_stats import Figures
from monitor.target import Price
from tests.api.conftest import SECRET, TARGETS, Seed


def fig(
    ok: int = 10, failed: int = 0, ttft: float = 300.0, latency: float = 600.0, passed: float = 1.0
) -> Figures:
    f = Figures()
    f.probes = ok + failed
    f.outcomes = {"ok": ok, "server_error": failed} if failed else {"ok": ok}
    f.ttft_ms = [ttft] * ok
    f.latency_ms = [latency] * ok
    f.checked = ok
    f.passed = round(ok * passed)
    return f


def cand(
    name: str, status: Status = Status.OPERATIONAL, price: float | None = None, **figs: float
) -> Candidate:
    return Candidate(
        target=name,
        status=status,
        figures=fig(**figs),  # type: ignore[arg-type]
        price=Price(input=price, output=price) if price is not None else None,
    )


def order(entries: list) -> list[str]:
    return [e.candidate.target for e in entries]


@pytest.mark.parametrize(
    ("candidates", "need", "first"),
    [
        # A healthy target beats a degraded one even when the degraded one is faster.
        (
            [cand("a/slow", ttft=900), cand("b/fast", Status.DEGRADED, ttft=100)],
            "balanced",
            "a/slow",
        ),
        # A degraded target beats one nobody has data for.
        (
            [cand("a/unknown", Status.UNKNOWN), cand("b/degraded", Status.DEGRADED)],
            "balanced",
            "b/degraded",
        ),
        # Among healthy targets, the faster first token wins when speed is the need.
        ([cand("a/slow", ttft=900), cand("b/fast", ttft=150)], "fast", "b/fast"),
        # ... and the cheaper one when cost is.
        (
            [cand("a/dear", price=10, ttft=150), cand("b/cheap", price=0.2, ttft=400)],
            "cheap",
            "b/cheap",
        ),
        # Failing probes count against a target.
        (
            [cand("a/flaky", ok=6, failed=4), cand("b/steady", ok=10, ttft=500)],
            "reliable",
            "b/steady",
        ),
        # So do failed canaries.
        ([cand("a/wrong", passed=0.5, ttft=100), cand("b/right", ttft=300)], "quality", "b/right"),
    ],
)
def test_the_best_target_for_the_need_ranks_first(
    candidates: list[Candidate], need: str, first: str
) -> None:
    usable, _ = rank(candidates, need)

    assert usable[0].candidate.target == first
    assert usable[0].rank == 1
    assert usable[0].reason.startswith("first:")


def test_a_target_that_is_down_is_never_ranked_even_when_it_looks_best() -> None:
    usable, excluded = rank(
        [
            cand("a/down", Status.DOWN, price=0.1, ttft=50),
            cand("b/slow", Status.DEGRADED, ttft=2000),
        ]
    )

    assert order(usable) == ["b/slow"]
    assert order(excluded) == ["a/down"]
    assert excluded[0].reason == "excluded: down"


def test_every_entry_says_why_it_ranks_where_it_does() -> None:
    usable, _ = rank(
        [cand("a/x", ttft=300), cand("b/y", ttft=900), cand("c/z", Status.DEGRADED)], "fast"
    )

    assert usable[1].reason.startswith("below a/x:") and "slower first token" in usable[1].reason
    assert usable[2].reason == "below b/y: degraded ranks after operational"
    assert "TTFT p50 900 ms (3.0× the fastest)" in usable[1].why


def test_an_unknown_need_is_refused() -> None:
    from monitor.errors import UsageError

    with pytest.raises(UsageError, match="unknown need"):
        rank([cand("a/x")], "vibes")


def test_route_over_http_puts_the_down_target_out_of_the_ranking(api: str, seed: Seed) -> None:
    seed("openai/gpt-4o-mini", ["overloaded"] * 5)
    seed("anthropic/claude-haiku-4-5", ["ok"] * 5)

    body = httpx.get(f"{api}/api/route", params={"family": "fast-small", "need": "fast"}).json()

    assert [t["target"] for t in body["targets"]] == ["anthropic/claude-haiku-4-5"]
    assert body["targets"][0]["base_url"] == "http://127.0.0.1:9"
    assert body["targets"][0]["model"] == "claude-haiku-4-5"
    assert [t["target"] for t in body["excluded"]] == ["openai/gpt-4o-mini"]


@pytest.mark.parametrize("query", [{"family": "no-such"}, {"need": "vibes"}, {"window": "soon"}])
def test_route_refuses_what_it_cannot_answer(api: str, query: dict[str, str]) -> None:
    response = httpx.get(f"{api}/api/route", params=query)

    assert response.status_code == 400
    assert response.json()["error"]


def test_brownout_route_json_ranks_the_family(
    tmp_path: Path, sqlite_url: str, seed: Seed, capsys: pytest.CaptureFixture[str]
) -> None:
    seed("openai/gpt-4o-mini", ["ok"] * 4, ttft_ms=200.0)
    seed("anthropic/claude-haiku-4-5", ["ok", "timeout", "ok", "ok"])
    config = tmp_path / "probes.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "storage": {"url": sqlite_url},
                "providers": {
                    "openai": {
                        "kind": "openai",
                        "base_url": "http://127.0.0.1:9/v1",
                        "api_key": SECRET,
                        "models": ["gpt-4o-mini"],
                    },
                    "anthropic": {
                        "kind": "anthropic",
                        "base_url": "http://127.0.0.1:9",
                        "api_key": SECRET,
                        "models": ["claude-haiku-4-5"],
                    },
                },
                "families": {"fast-small": TARGETS[:2]},
            }
        )
    )

    code = main(["route", "--config", str(config), "--family", "fast-small", "--json"])

    out = capsys.readouterr().out
    assert code == 0
    answer = json.loads(out)
    assert [t["target"] for t in answer["targets"]] == TARGETS[:2]
    assert answer["targets"][1]["status"] == "degraded"
    assert SECRET not in out
    assert main(["route", "--config", str(config), "--family", "fast-small"]) == 0
    assert "openai/gpt-4o-mini" in capsys.readouterr().out
    assert main(["route", "--config", str(config), "--family", "nope"]) == 2
