"""Incidents from transitions (pure), and the `detection:` section of the config file."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.config import load_config
from monitor.config.detection import DetectionConfig
from monitor.detect.incidents import IncidentTracker
from monitor.detect.types import Status, TargetStatus, Transition
from monitor.errors import ConfigError
from tests.factories import MINUTE, T0

A = "openai/gpt-4o-mini"
OP, DEG, DOWN, UNK = Status.OPERATIONAL, Status.DEGRADED, Status.DOWN, Status.UNKNOWN


def flip(minute: int, old: Status, new: Status, *reasons: str, **details: object) -> Transition:
    return Transition(T0 + minute * MINUTE, A, old, new, list(reasons), dict(details))


def test_one_stretch_of_trouble_is_one_incident_with_its_worst_and_all_reasons() -> None:
    tracker = IncidentTracker()
    [opened] = tracker.apply([flip(0, OP, DEG, "latency", latency={"ratio": 2.1})], {})
    assert (opened.start, opened.worst, opened.end) == (T0, DEG, None)
    tracker.apply([flip(5, DEG, DOWN, "errors", errors={"rate": 0.9})], {})
    tracker.apply([flip(9, DOWN, UNK, "stale")], {})  # not looking does not end it
    assert A in tracker.open
    [closed] = tracker.apply([flip(30, UNK, OP)], {})
    assert closed is opened and closed.end == T0 + 30 * MINUTE
    assert (closed.worst, closed.reasons) == (DOWN, ["errors", "latency"])
    assert closed.peak == {"latency": {"ratio": 2.1}, "errors": {"rate": 0.9}}
    assert tracker.open == {}


def test_the_peak_keeps_the_worst_figures_seen_while_open() -> None:
    tracker = IncidentTracker()
    tracker.apply([flip(0, OP, DEG, "latency", latency={"ratio": 2.1})], {})
    worse = TargetStatus(A, DEG, T0, ["latency"], {"latency": {"ratio": 3.4}})
    assert tracker.apply([], {A: worse})[0].peak["latency"]["ratio"] == 3.4
    better = TargetStatus(A, DEG, T0, ["latency"], {"latency": {"ratio": 2.5}})
    assert tracker.apply([], {A: better}) == []  # nothing changed
    assert tracker.open[A].peak["latency"]["ratio"] == 3.4


@pytest.mark.parametrize(
    ("section", "says"),
    [
        ("detection:\n  latency:\n    ratio: 0.5\n", "greater than 1"),
        ("detection:\n  errors:\n    degraded: 0.1\n", "unknown key 'degraded'"),
        ("detection:\n  overrides:\n    'ollama/*':\n      latency: {colour: red}\n", "colour"),
        ("detection:\n  model_change:\n    adopt_after: soon\n", "not a duration"),
    ],
)
def test_a_bad_detection_section_is_reported_with_its_line(
    tmp_path: Path, section: str, says: str
) -> None:
    path = tmp_path / "probes.yaml"
    path.write_text("schedule:\n  interval: 30s\n" + section)
    with pytest.raises(ConfigError) as caught:
        load_config(str(path), env={})
    [problem] = caught.value.problems
    assert problem.startswith(f"{path}:") and says in problem
    assert int(problem.split(":")[1]) >= 3


def test_the_detection_section_sets_thresholds_from_the_false_alarm_rate(tmp_path: Path) -> None:
    path = tmp_path / "probes.yaml"
    path.write_text("detection:\n  false_alarms_per_month: 0.1\n  stale_after: 5\n")
    config = load_config(str(path), env={}).detection
    assert config.stale_after == 5
    quieter = config.threshold(60, None)
    assert quieter > DetectionConfig().threshold(60, None)
    assert config.threshold(60, 7.5) == 7.5
