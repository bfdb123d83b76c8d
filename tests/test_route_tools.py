"""The transfer switch for tool-using applications (`need=tools`): a target whose tool calls
fail ranks below one whose calls pass, however it does on everything else."""

from __future__ import annotations

from datetime import timedelta

import pytest

from monitor.config import Config
from monitor.detect.types import Status
from monitor.result import Outcome, ProbeResult, utcnow
from monitor.route import Candidate, rank, route
from monitor.store import Store, results


def _cand(name: str, tool_pass: float | None, ttft: float = 300.0, probes: int = 30) -> Candidate:
    return Candidate(
        target=name,
        status=Status.OPERATIONAL,
        probes=probes,
        success=1.0,
        ttft_p50=ttft,
        latency_p50=2 * ttft,
        pass_ratio=1.0,
        tool_probes=probes if tool_pass is not None else 0,
        tool_pass=tool_pass,
        tool_failures={"schema_mismatch": round(probes * (1 - tool_pass))} if tool_pass else {},
    )


def test_failing_tool_calls_rank_a_faster_target_below_for_tools_only() -> None:
    fast_but_broken = _cand("a/fast", 0.9, ttft=100)
    slow_but_sound = _cand("b/slow", 1.0, ttft=900)

    usable, _ = rank([fast_but_broken, slow_but_sound], "tools")
    assert [e.candidate.target for e in usable] == ["b/slow", "a/fast"]
    assert usable[1].reason.endswith("failed tool calls (score × 0.66)")
    assert any(
        w.startswith("tool calls pass 90.0% of 30 (schema_mismatch 3)") for w in usable[1].why
    )
    assert "tools" in usable[1].parts

    usable, _ = rank([fast_but_broken, slow_but_sound], "fast")
    assert usable[0].candidate.target == "a/fast"  # other needs do not look at tool calls
    assert "tools" not in usable[0].parts


def test_a_target_without_tool_probes_is_neutral_and_says_so() -> None:
    usable, _ = rank([_cand("a/none", None), _cand("b/half", 0.5)], "tools")
    assert usable[0].candidate.target == "a/none"
    assert "no tool-call probes in the last 15m" in usable[0].why


def test_route_counts_the_stored_tool_checks_of_the_window(store: Store) -> None:
    now = utcnow()

    def probe(target: str, minutes_ago: float, check: str | None) -> ProbeResult:
        provider, _, model = target.partition("/")
        ok = check in (None, "ok")
        return ProbeResult(
            ts=now - timedelta(minutes=minutes_ago), target=target, provider=provider,
            model=model, canary="weather_tool" if check else "arithmetic",
            outcome=Outcome.OK if ok else Outcome.WRONG_ANSWER, ttft_ms=300.0,
            latency_ms=600.0, quality_ok=ok, tool_check=check,
        )  # fmt: skip

    batch = [probe("a/broken", m, "ok" if m % 4 else "invalid_json") for m in range(12)]
    batch += [probe("b/sound", m, "ok") for m in range(12)]
    batch += [probe("a/broken", m, None) for m in range(12)]  # its text canaries all pass
    batch += [probe("b/sound", 30, "schema_mismatch")]  # outside the 15-minute window
    results.record(store, batch)

    answer = route(store, Config(), need="tools", now=now + timedelta(seconds=1))

    assert [e.candidate.target for e in answer.targets] == ["b/sound", "a/broken"]
    broken = answer.targets[1].to_dict()["figures"]
    assert broken["tool_probes"] == 12
    assert broken["tool_call_pass_ratio"] == pytest.approx(0.75)
    assert broken["tool_call_failures"] == {"invalid_json": 3}
    sound = answer.targets[0].to_dict()["figures"]
    assert (sound["tool_probes"], sound["tool_call_failures"]) == (12, {})
