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
from monitor.store import Store
from monitor.target import Price
from tests.factories import SECRET, TARGETS, Seed


def cand(
    name: str,
    status: Status = Status.OPERATIONAL,
    price: float | None = None,
    ok: int = 10,
    failed: int = 0,
    ttft: float = 300.0,
    latency: float = 600.0,
    passed: float = 1.0,
) -> Candidate:
    return Candidate(
        target=name,
        status=status,
        probes=ok + failed,
        success=ok / (ok + failed),
        ttft_p50=ttft,
        latency_p50=latency,
        pass_ratio=passed,
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


@pytest.mark.parametrize("need", ["balanced", "fast", "cheap", "reliable", "quality"])
def test_a_target_failing_a_third_of_its_calls_never_outranks_a_healthy_one(need: str) -> None:
    flaky = cand("a/flaky", ok=20, failed=10, ttft=100, latency=200, price=0.1)
    healthy = cand("b/slow", ttft=3000, latency=9000, price=20, passed=0.9)

    usable, _ = rank([flaky, healthy], need)

    assert order(usable) == ["b/slow", "a/flaky"]
    assert "recent failures" in usable[1].reason
    assert "recent failures: score × 0.20" in usable[1].why


def test_the_switch_reads_minute_rollups_and_weighs_recent_minutes_most(
    store: Store,
) -> None:
    from datetime import timedelta

    from sqlalchemy import delete

    from monitor.config import Config
    from monitor.result import Outcome, ProbeResult, utcnow
    from monitor.route import route
    from monitor.store import results
    from monitor.store.tables import ProbeRow

    now = utcnow().replace(second=30, microsecond=0)

    def probe(target: str, minutes_ago: int, outcome: Outcome, ttft: float) -> ProbeResult:
        provider, _, model = target.partition("/")
        return ProbeResult(
            ts=now - timedelta(minutes=minutes_ago), target=target, provider=provider,
            model=model, canary="c", outcome=outcome, ttft_ms=ttft, latency_ms=2 * ttft,
            quality_ok=outcome is Outcome.OK,
        )  # fmt: skip

    batch = [probe("b/slow", m, Outcome.OK, 2400.0) for m in range(14, -1, -1) for _ in range(2)]
    # a/fast answered everything until five minutes ago, then failed a third of its calls
    batch += [probe("a/fast", m, Outcome.OK, 200.0) for m in range(14, 5, -1) for _ in range(3)]
    batch += [
        probe("a/fast", m, Outcome.SERVER_ERROR if k == 0 else Outcome.OK, 200.0)
        for m in range(5, -1, -1)
        for k in range(3)
    ]
    results.record(store, batch)
    answer = route(store, Config(), now=now + timedelta(seconds=5))

    assert [e.candidate.target for e in answer.targets] == ["b/slow", "a/fast"]
    fast = answer.targets[1].candidate
    assert fast.probes == 45 and fast.ttft_p50 == pytest.approx(200.0, rel=0.01)
    # weighted to the last minutes: closer to the recent 2/3 than the window's 39/45
    assert fast.success is not None and fast.success < 0.8
    # The raw results gone (as retention removes them), the figures are the same: rollups.
    with store.session() as session:
        session.execute(delete(ProbeRow))
    again = route(store, Config(), now=now + timedelta(seconds=5)).targets[1].candidate
    assert (again.probes, again.success, again.ttft_p50) == (45, fast.success, fast.ttft_p50)


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


def test_the_readmes_route_example_works_on_the_demos_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from monitor.commands.demo import write_demo_config

    config_file = write_demo_config(tmp_path, "http://127.0.0.1:9")
    monkeypatch.setenv("BROWNOUT_CONFIG", str(config_file))

    assert main(["route", "--family", "fast-small", "--need", "fast", "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    ranked = {t["target"] for t in answer["targets"] + answer["excluded"]}
    assert ranked == {"openai/gpt-4o-mini", "anthropic/claude-haiku-4-5", "gemini/gemini-2.5-flash"}


def test_a_target_missing_the_tail_preferences_ranks_after_those_that_meet_them() -> None:
    from monitor.route import Preferences

    slow_tail = cand("a/fast-median-slow-tail", ttft=100)
    slow_tail.ttft_p90, slow_tail.tokens_per_s_p50 = 2500.0, 80.0
    steady = cand("b/steady", ttft=400)
    steady.ttft_p90, steady.tokens_per_s_p50 = 600.0, 60.0
    sluggish = cand("c/sluggish", ttft=300)
    sluggish.ttft_p90, sluggish.tokens_per_s_p50 = 500.0, 12.0
    degraded = cand("d/degraded", Status.DEGRADED)
    degraded.ttft_p90, degraded.tokens_per_s_p50 = 400.0, 90.0
    everyone = [slow_tail, steady, sluggish, degraded]

    plain, _ = rank(everyone, "fast")
    preferred, _ = rank(
        everyone, "fast", preferences=Preferences(max_ttft_p90_ms=800, min_tokens_per_s=30)
    )

    assert order(plain)[0] == "a/fast-median-slow-tail"
    # meets both first; then the misses, still by score; status stays the first key
    assert order(preferred) == [
        "b/steady",
        "a/fast-median-slow-tail",
        "c/sluggish",
        "d/degraded",
    ]
    by = {e.candidate.target: e for e in preferred}
    assert by["a/fast-median-slow-tail"].misses == ["TTFT p90 2500 ms > 800 ms"]
    assert by["c/sluggish"].misses == ["12.0 tokens/s (p50) < 30"]
    assert by["a/fast-median-slow-tail"].reason.startswith("below b/steady: misses the preferences")
    assert by["b/steady"].to_dict()["preferences_met"] is True
    assert plain[0].to_dict()["preferences_met"] is None  # nothing asked


def test_route_over_http_takes_tail_preferences(api: str, seed: Seed) -> None:
    seed("openai/gpt-4o-mini", ["ok"] * 6, ttft_ms=150.0, tokens_per_s=8.0)
    seed("anthropic/claude-haiku-4-5", ["ok"] * 6, ttft_ms=400.0, tokens_per_s=90.0)

    plain = httpx.get(f"{api}/api/route", params={"family": "fast-small", "need": "fast"}).json()
    body = httpx.get(
        f"{api}/api/route",
        params={"family": "fast-small", "need": "fast", "min_tokens_per_s": "30"},
    ).json()

    assert plain["targets"][0]["target"] == "openai/gpt-4o-mini"
    assert [t["target"] for t in body["targets"]] == [
        "anthropic/claude-haiku-4-5",
        "openai/gpt-4o-mini",
    ]
    assert body["preferences"] == {"max_ttft_p90_ms": None, "min_tokens_per_s": 30.0}
    assert body["targets"][1]["misses"] == ["8.0 tokens/s (p50) < 30"]
    assert body["targets"][0]["figures"]["tokens_per_s_p50"] == pytest.approx(90, rel=0.02)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"max_ttft_p90": "fast"}, "max_ttft_p90: "),
        ({"max_ttft_p90": "0s"}, "max_ttft_p90 must be more than 0"),
        ({"min_tokens_per_s": "lots"}, "min_tokens_per_s must be a number of tokens per second"),
        ({"min_tokens_per_s": "-3"}, "min_tokens_per_s must be a number of tokens per second"),
        ({"min_tokens_per_s": "nan"}, "min_tokens_per_s must be a number of tokens per second"),
    ],
)
def test_a_bad_tail_preference_is_a_400_in_one_sentence(
    api: str, query: dict[str, str], message: str
) -> None:
    response = httpx.get(f"{api}/api/route", params=query)

    assert response.status_code == 400
    error = response.json()["error"]
    assert error.startswith(message) and "\n" not in error


def test_targets_of_the_same_families_share_one_ranking_in_a_pass(store: Store, seed: Seed) -> None:
    from monitor.route import Answer, switch_for
    from tests.factories import api_config

    seed(TARGETS[2], ["ok"] * 6)
    config = api_config(families={"all": TARGETS})
    answers: dict[tuple[str, ...], Answer] = {}

    first = switch_for(store, config, TARGETS[0], answers=answers)
    second = switch_for(store, config, TARGETS[1], answers=answers)

    assert first.to == second.to == TARGETS[2]
    assert list(answers) == [tuple(TARGETS)]
    assert switch_for(store, config, TARGETS[2]).to is None  # nothing else is healthy


def test_a_route_given_the_statuses_read_already_is_the_route_that_reads_them(
    store: Store, seed: Seed
) -> None:
    """The status page passes its statuses of every target (read once for the page); a family's
    ranking from them is the one `route` gives reading its members' statuses itself, and a view
    of another instant or without a member is not used."""
    from datetime import timedelta

    from monitor.read.now import status_now, target_names
    from monitor.result import utcnow
    from monitor.route import route
    from tests.factories import api_config

    seed(TARGETS[0], ["ok"] * 6)
    seed(TARGETS[1], ["server_error"] * 6)
    seed(TARGETS[2], ["ok", "timeout", "ok", "ok"])
    config = api_config(families={"pair": [TARGETS[1], TARGETS[2]]})
    now = utcnow()
    names = target_names(store, config, now)
    view = status_now(store, config, now, names)
    for family in (None, "pair"):
        members = names if family is None else config.families[family]
        expected = route(store, config, family=family, now=now)
        assert route(store, config, family=family, now=now, members=members, view=view) == expected
    stale = status_now(store, config, now - timedelta(minutes=30), names)
    partial = status_now(store, config, now, [TARGETS[0]])
    for other in (stale, partial):
        assert route(store, config, now=now, members=names, view=other) == route(
            store, config, now=now
        )
