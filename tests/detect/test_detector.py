"""The pure detector: each signal's rule, hysteresis, the flap guard and staleness."""

from __future__ import annotations

import pytest

from monitor.config.detection import DetectionConfig
from monitor.detect.engine import Detector, replay
from monitor.detect.types import Status, Transition
from monitor.result import Outcome, ProbeResult
from tests.factories import MINUTE, SECOND, T0, healthy_stream, minute_probe

WARM = 600  # healthy probes before anything happens


def bad(transitions: list[Transition]) -> list[Transition]:
    return [t for t in transitions if t.new in (Status.DEGRADED, Status.DOWN)]


def first_alarm(
    results: list[ProbeResult], start: int, config: DetectionConfig | None = None
) -> tuple[int, Transition]:
    """The first degraded/down transition and its delay in probes from probe `start` (1-based)."""
    found = bad(replay(results, config))
    assert found, "no alarm at all"
    first = found[0]
    return int((first.ts - T0) / MINUTE) - start + 1, first


def test_a_healthy_stream_raises_no_alarm() -> None:
    transitions = replay(healthy_stream(0, 5000, error_rate=0.005, limit_rate=0.002))
    assert bad(transitions) == []
    assert [(t.old, t.new) for t in transitions] == [(Status.UNKNOWN, Status.OPERATIONAL)]


@pytest.mark.parametrize(
    ("name", "brownout", "status", "reason", "within"),
    [
        ("latency ×3", dict(slow=3.0), Status.DEGRADED, "latency", 6),
        ("errors 30 %", dict(error_rate=0.3), Status.DEGRADED, "errors", 40),
        ("rate limit 50 %", dict(limit_rate=0.5), Status.DEGRADED, "rate_limit", 15),
        ("quality 98 → 70 %", dict(wrong_rate=0.3), Status.DEGRADED, "quality", 80),
        ("new model", dict(model="gpt-4o-mini-2025-01-01"), Status.DEGRADED, "model_change", 1),
        ("outage", dict(error_rate=1.0), Status.DOWN, "errors", 3),
    ],
)
def test_each_kind_of_brownout_is_told_apart_quickly(
    name: str, brownout: dict[str, object], status: Status, reason: str, within: int
) -> None:
    results = healthy_stream(0, WARM) + healthy_stream(WARM, 100, **brownout)  # type: ignore[arg-type]
    delay, _first = first_alarm(results, WARM)
    assert delay <= within
    detector = Detector(DetectionConfig())
    detector.observe(results)
    [settled] = detector.statuses().values()
    assert settled.status is status
    assert reason in settled.reasons


def test_three_failures_in_a_row_are_an_outage_and_two_are_not() -> None:
    failing = [minute_probe(WARM + k, outcome=Outcome.TIMEOUT) for k in range(2)]
    assert bad(replay(healthy_stream(0, WARM) + failing)) == []
    failing.append(minute_probe(WARM + 2, outcome=Outcome.CONNECTION_ERROR))
    [alarm] = bad(replay(healthy_stream(0, WARM) + failing))
    assert (alarm.new, alarm.reasons) == (Status.DOWN, ["errors"])


def test_one_wrong_answer_is_no_alarm() -> None:
    results = healthy_stream(0, WARM, wrong_rate=0.0)
    results.append(minute_probe(WARM, outcome=Outcome.WRONG_ANSWER, quality_ok=False))
    assert bad(replay(results)) == []


def test_rate_limits_are_kept_apart_from_errors() -> None:
    limited = [
        minute_probe(WARM + k, outcome=Outcome.RATE_LIMITED, http_status=429) for k in range(30)
    ]
    alarms = bad(replay(healthy_stream(0, WARM) + limited))
    assert alarms and all(t.new is Status.DEGRADED for t in alarms)
    assert "errors" not in alarms[0].reasons and "rate_limit" in alarms[0].reasons


def test_cancelled_probes_say_nothing_about_the_provider() -> None:
    cancelled = [minute_probe(WARM + k, outcome=Outcome.CANCELLED) for k in range(50)]
    assert bad(replay(healthy_stream(0, WARM) + cancelled)) == []


def test_an_outage_ends_in_degraded_until_the_failures_have_clearly_stopped() -> None:
    outage = [minute_probe(WARM + k, outcome=Outcome.SERVER_ERROR) for k in range(10)]
    after = WARM + 10
    results = healthy_stream(0, WARM) + outage

    def path(good: int) -> list[Status]:
        transitions = replay(results + [minute_probe(after + k) for k in range(good)])
        return [t.new for t in transitions[1:]]

    assert path(1) == [Status.DOWN]  # one good answer is not the end of an outage
    assert path(2) == [Status.DOWN, Status.DEGRADED]
    assert path(7) == [Status.DOWN, Status.DEGRADED]
    assert path(15) == [Status.DOWN, Status.DEGRADED, Status.OPERATIONAL]


def test_a_brownout_that_begins_with_a_run_of_failures_stays_one_incident() -> None:
    run = [minute_probe(WARM + k, outcome=Outcome.TIMEOUT) for k in range(3)]
    results = healthy_stream(0, WARM) + run + healthy_stream(WARM + 3, 200, error_rate=0.3)
    transitions = replay(results)
    assert [t.new for t in transitions[1:3]] == [Status.DOWN, Status.DEGRADED]
    assert Status.OPERATIONAL not in [t.new for t in transitions[1:]]


def test_the_transition_carries_figures_against_baseline() -> None:
    results = healthy_stream(0, WARM) + healthy_stream(WARM, 50, slow=3.0)
    _delay, first = first_alarm(results, WARM)
    figures = first.details["latency"]
    assert figures["ratio"] > 2
    assert figures["value_ms"] > figures["baseline_ms"]


def test_a_flapping_provider_is_held_as_one_stretch_of_trouble() -> None:
    results = healthy_stream(0, WARM)
    i = WARM
    for _cycle in range(8):  # 4 minutes down, 6 up, eight times
        results += [minute_probe(i + k, outcome=Outcome.OVERLOADED) for k in range(4)]
        results += healthy_stream(i + 4, 6)
        i += 10
    detector = Detector(DetectionConfig())
    transitions = detector.observe(results)[1:]
    # The third outage in an hour is held `degraded`, and so is everything after it.
    assert [t.new for t in transitions] == [Status.DOWN, Status.DEGRADED] * 2
    [status] = detector.statuses().values()
    assert status.status is Status.DEGRADED and "flapping" in status.details


def test_no_fresh_result_for_three_intervals_beyond_the_timeout_is_unknown() -> None:
    detector = Detector(DetectionConfig(), default_interval=60, default_timeout=30)
    detector.observe(healthy_stream(0, 10))
    assert detector.tick(T0 + 12 * MINUTE + 59 * SECOND) == []
    [stale] = detector.tick(T0 + 14 * MINUTE)
    assert (stale.old, stale.new, stale.reasons) == (Status.OPERATIONAL, Status.UNKNOWN, ["stale"])
    # Last result at minute 9, plus three intervals, plus two timeouts (the probe in flight
    # when the next round was due, and the next round's own).
    assert stale.ts == T0 + 13 * MINUTE
    [back] = detector.observe([minute_probe(20)])
    assert (back.old, back.new) == (Status.UNKNOWN, Status.OPERATIONAL)


def test_a_new_model_becomes_the_baseline_after_a_while() -> None:
    config = DetectionConfig.model_validate({"model_change": {"adopt_after": "30m"}})
    new = "gpt-4o-mini-2025-01-01"
    results = healthy_stream(0, WARM) + healthy_stream(WARM, 120, model=new)
    transitions = replay(results, config)
    assert [(t.new, t.reasons) for t in transitions[1:]][:2] == [
        (Status.DEGRADED, ["model_change"]),
        (Status.OPERATIONAL, []),
    ]
    assert transitions[2].ts - transitions[1].ts >= 30 * MINUTE
    assert transitions[1].details["model_change"]["model"] == new


def test_an_absolute_latency_limit_from_config_applies_to_the_median() -> None:
    config = DetectionConfig.model_validate({"latency": {"max_ms": 900}})
    results = healthy_stream(0, 10) + [minute_probe(10 + k, latency_ms=1500.0) for k in range(3)]
    [alarm] = bad(replay(results, config))
    assert alarm.reasons == ["latency"] and alarm.details["latency"]["limit"] == 900


def test_an_override_applies_only_to_the_targets_it_names() -> None:
    config = DetectionConfig.model_validate(
        {"latency": {"ratio": 2.0}, "overrides": {"ollama/*": {"latency": {"max_ms": 900}}}}
    )
    assert config.for_target("ollama/llama3.2").latency.max_ms == 900
    assert config.for_target("ollama/llama3.2").latency.ratio == 2.0
    assert config.for_target("openai/gpt-4o-mini").latency.max_ms is None
    by_provider = DetectionConfig.model_validate({"overrides": {"ollama": {"stale_after": 10}}})
    assert by_provider.for_target("ollama/llama3.2").stale_after == 10
    assert by_provider.for_target("openai/gpt-4o-mini").stale_after == 3


def test_one_round_of_canaries_failing_together_is_not_yet_an_outage() -> None:
    def round_of(minute: int) -> list[ProbeResult]:
        return [
            minute_probe(
                minute, outcome=Outcome.CONNECTION_ERROR, ts=T0 + minute * MINUTE + k * SECOND
            )
            for k in range(3)
        ]

    detector = Detector(DetectionConfig(), default_interval=60)
    detector.observe(healthy_stream(0, WARM))
    assert bad(detector.observe(round_of(WARM))) == []  # a blip: three canaries, one moment
    [outage] = bad(detector.observe(round_of(WARM + 1)))  # the next round fails too
    assert outage.new is Status.DOWN


@pytest.mark.parametrize(
    ("relearn_after", "settles"), [("1d", Status.DEGRADED), ("1h", Status.OPERATIONAL)]
)
def test_a_lasting_slowdown_is_not_learned_as_normal_until_relearn_after(
    relearn_after: str, settles: Status
) -> None:
    config = DetectionConfig.model_validate(
        {name: {"relearn_after": relearn_after} for name in ("latency", "ttft", "throughput")}
    )
    detector = Detector(config)
    detector.observe(healthy_stream(0, WARM) + healthy_stream(WARM, 300, slow=3.0))
    [status] = detector.statuses().values()
    assert status.status is settles
