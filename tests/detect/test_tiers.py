"""Workload tiers: a long prompt's timings have their own baselines, a burst tests capacity
only, and staleness follows the canaries' cadences (`every:`)."""

from __future__ import annotations

from pathlib import Path

from monitor.config.detection import DetectionConfig
from monitor.detect.engine import Detector, replay, stale_seconds_for
from monitor.detect.types import Status
from monitor.result import Outcome
from tests.factories import MINUTE, T0, config_file, minute_probe, tiered_stream

TIERS = {"long": "long"}


def _detector(**kw: object) -> Detector:
    return Detector(DetectionConfig(), intervals={"openai/gpt-4o-mini": 60.0}, **kw)  # type: ignore[arg-type]


def test_a_long_prompt_twenty_times_slower_in_its_own_tier_raises_nothing() -> None:
    transitions = _detector(tiers=TIERS).observe(tiered_stream(3000))
    assert [t.new for t in transitions] == [Status.OPERATIONAL]


def test_a_slowdown_of_the_long_prompt_alone_is_called_in_its_tier() -> None:
    trace = tiered_stream(3000, slow_from=2400)
    transitions = _detector(tiers=TIERS).observe(trace)
    bad = [t for t in transitions if t.new is Status.DEGRADED]
    assert bad, "the long tier's slowdown went unseen"
    first = bad[0]
    assert first.ts >= T0 + 2400 * MINUTE
    assert "latency" in first.reasons
    assert first.details["latency"]["tier"] == "long"
    assert first.details["latency"]["ratio"] > 2


def test_without_tiers_the_long_prompts_hide_in_the_short_baseline() -> None:
    # The same trace with every canary in one tier: the long prompts' slowdown is lost among
    # the short ones (why tiers exist), and nothing names a tier.
    transitions = _detector().observe(tiered_stream(3000, slow_from=2400))
    assert all("tier" not in str(t.details) for t in transitions)
    assert not any(
        t.new is Status.DEGRADED and t.ts < T0 + 2500 * MINUTE and "latency" in t.reasons
        for t in transitions
    )


def test_a_burst_that_is_rate_limited_is_no_brownout_of_the_provider() -> None:
    trace = [minute_probe(i) for i in range(200)]
    for day_minute in (100, 101):
        trace += [
            minute_probe(day_minute, canary="load", outcome=Outcome.RATE_LIMITED, http_status=429)
            for _ in range(20)
        ]
    trace.sort(key=lambda r: r.ts)
    quiet = _detector(bursts=frozenset({"load"}), tiers={"load": "burst"}).observe(trace)
    assert [t.new for t in quiet] == [Status.OPERATIONAL]
    loud = _detector().observe(trace)  # the same 429s from ordinary canaries: rate limited
    assert any("rate_limit" in t.reasons for t in loud)


def _tiered(tmp_path: Path) -> dict[str, object]:
    return {
        "schedule": {"interval": "60s", "timeout": "30s"},
        "providers": {
            "openai": {
                "kind": "openai",
                "base_url": "http://127.0.0.1:9",
                "api_key": "sk-test-key",
                "models": ["gpt-4o-mini"],
            }
        },
        "canaries": [
            {"name": "reach", "prompt": "Say OK.", "expect": {"regex": "."}, "max_tokens": 1,
             "every": "30s"},
            {"name": "arithmetic", "generator": "arithmetic"},
            {"name": "count", "generator": "sort_numbers"},
            {"name": "long", "generator": "long_10k", "every": "4h", "tier": "long"},
            {"name": "load", "generator": "arithmetic", "every": "1d", "burst": 10},
        ],
    }  # fmt: skip


def test_staleness_is_judged_on_the_round_that_reports_most_often(tmp_path: Path) -> None:
    config = config_file(tmp_path, _tiered(tmp_path))
    # Three 30 s intervals, plus the reach round's one probe and one more at the timeout;
    # not three minutes plus all five canaries (the 4-hourly and daily ones are not due).
    assert stale_seconds_for(config, "openai/gpt-4o-mini") == 3 * 30 + 2 * 30
    detector = Detector(config)
    assert detector.intervals["openai/gpt-4o-mini"] == 30
    # The thresholds count every probe: 1 + 2 × ½ + 1/480 + 10/2880 per 30 s.
    assert abs(detector.loads["openai/gpt-4o-mini"] - (2 + 1 / 480 + 10 / 2880)) < 1e-9
    assert config.tiers() == {"reach": "short", "arithmetic": "short", "count": "short",
                              "long": "long", "load": "burst"}  # fmt: skip


def test_replay_reads_a_burst_as_one_round_not_as_a_cadence_of_milliseconds() -> None:
    from datetime import timedelta

    trace = [minute_probe(i) for i in range(600)]
    for start in range(0, 600, 10):  # a burst of 20 every 10 minutes, 5 ms apart
        trace += [
            minute_probe(
                start, canary="load", ts=T0 + start * MINUTE + timedelta(milliseconds=5 * k)
            )
            for k in range(20)
        ]
    trace.sort(key=lambda r: r.ts)
    assert [t.new for t in replay(trace)] == [Status.OPERATIONAL]
    gap = [r for r in trace if not 300 <= (r.ts - T0) / MINUTE < 320]
    assert Status.UNKNOWN in [t.new for t in replay(gap)]
