"""The `tool_calls` signal: tool canaries' failed calls against their own healthy rate, apart
from the text canaries' `quality`."""

from __future__ import annotations

from monitor.config.detection import DetectionConfig
from monitor.detect.engine import Detector, replay
from monitor.detect.types import Status
from monitor.result import ProbeResult
from tests.factories import MINUTE, T0, healthy_stream

WARM = 1440  # a day of healthy tool probes


def _tools(start: int, n: int, rate: float, seed: int = 7) -> list[ProbeResult]:
    return healthy_stream(start, n, seed=seed, tool_fail_rate=rate)


def test_tool_calls_starting_to_fail_the_schema_raise_tool_calls_not_quality() -> None:
    results = _tools(0, WARM, 0.01) + _tools(WARM, 300, 0.25)
    alarms = [t for t in replay(results) if t.new is Status.DEGRADED]
    assert alarms, "no alarm"
    first = alarms[0]
    assert first.reasons == ["tool_calls"]
    assert int((first.ts - T0) / MINUTE) - WARM + 1 <= 100
    detector = Detector(DetectionConfig())
    detector.observe(results)
    [status] = detector.statuses().values()
    assert status.reasons == ["tool_calls"]
    figures = status.details["tool_calls"]
    assert figures["failures"]["schema_mismatch"] > 0
    assert figures["pass_rate"] < figures["baseline_pass_rate"]


def test_a_healthy_week_of_tool_probes_raises_no_alarm() -> None:
    results = _tools(0, 7 * 1440, 0.01, seed=11)
    assert [t for t in replay(results) if t.new is not Status.OPERATIONAL] == []


def test_failing_tool_calls_do_not_count_as_wrong_text_answers() -> None:
    quiet = DetectionConfig.model_validate({"tool_calls": {"enabled": False}})
    results = _tools(0, WARM, 0.01) + _tools(WARM, 300, 0.5)
    assert [t for t in replay(results, quiet) if t.new is not Status.OPERATIONAL] == []


def test_the_tool_calls_signal_can_be_tuned_per_target() -> None:
    config = DetectionConfig.model_validate(
        {"overrides": {"openai/*": {"tool_calls": {"expected_pass_rate": 0.9, "drop": 0.3}}}}
    )
    assert config.for_target("openai/gpt-4o-mini").tool_calls.drop == 0.3
    assert config.for_target("anthropic/claude").tool_calls.drop == 0.08
