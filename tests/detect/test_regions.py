"""Detection per target and region, and the quorum that combines the regions' statuses."""

from __future__ import annotations

import dataclasses

from monitor.config import Config
from monitor.config.detection import DetectionConfig
from monitor.detect.engine import replay
from monitor.detect.regions import RegionalDetector
from monitor.detect.types import Status
from monitor.result import Outcome, ProbeResult
from tests.factories import healthy_stream, minute_probe

REGIONS = ["eu-west", "us-east", "ap-south"]
TARGET = "openai/gpt-4o-mini"


def _in(region: str, results: list[ProbeResult]) -> list[ProbeResult]:
    return [dataclasses.replace(r, region=region) for r in results]


def _failing(start: int, n: int) -> list[ProbeResult]:
    return [
        minute_probe(i, outcome=Outcome.SERVER_ERROR, http_status=500)
        for i in range(start, start + n)
    ]


def _interleave(streams: dict[str, list[ProbeResult]]) -> list[ProbeResult]:
    merged = [r for region, stream in streams.items() for r in _in(region, stream)]
    return sorted(merged, key=lambda r: (r.ts, r.region))


def test_a_target_failing_in_one_region_of_three_is_a_regional_brownout_not_an_outage() -> None:
    detector = RegionalDetector(Config())
    history = {region: healthy_stream(0, 120) for region in REGIONS}
    detector.observe(_interleave(history))
    assert detector.statuses()[TARGET].status is Status.OPERATIONAL

    later = {region: healthy_stream(120, 30) for region in REGIONS}
    later["eu-west"] = _failing(120, 30)
    transitions = detector.observe(_interleave(later))

    assert [t.new for t in transitions] == [Status.DEGRADED]
    status = detector.statuses()[TARGET]
    assert status.status is Status.DEGRADED
    assert status.details["regions"] == ["eu-west"]
    assert status.details["regional"] is True
    assert status.details["by_region"] == {
        "ap-south": "operational",
        "eu-west": "down",
        "us-east": "operational",
    }
    assert "errors" in status.reasons
    assert status.to_dict()["regions"] == ["eu-west"]


def test_two_regions_of_three_failing_make_a_quorum_and_the_target_is_down() -> None:
    detector = RegionalDetector(Config())
    detector.observe(_interleave({region: healthy_stream(0, 120) for region in REGIONS}))
    later = {
        "eu-west": _failing(120, 30),
        "us-east": _failing(120, 30),
        "ap-south": healthy_stream(120, 30),
    }
    transitions = detector.observe(_interleave(later))

    assert transitions[-1].new is Status.DOWN
    assert Status.DOWN not in [t.new for t in transitions[:-1]]
    status = detector.statuses()[TARGET]
    assert status.status is Status.DOWN
    assert (status.details["regions"], status.details["regional"]) == (
        ["eu-west", "us-east"],
        False,
    )


def test_a_configured_quorum_of_one_makes_any_region_down_the_target_down() -> None:
    config = Config(detection=DetectionConfig(quorum=1))
    detector = RegionalDetector(config)
    detector.observe(_interleave({region: healthy_stream(0, 120) for region in REGIONS}))
    later = {region: healthy_stream(120, 30) for region in REGIONS}
    later["ap-south"] = _failing(120, 30)
    detector.observe(_interleave(later))
    assert detector.statuses()[TARGET].status is Status.DOWN


def test_a_target_probed_from_one_region_is_detected_exactly_as_without_regions() -> None:
    results = healthy_stream(0, 120) + _failing(120, 20) + healthy_stream(140, 60)
    alone = replay(results, Config())
    detector = RegionalDetector(Config())
    regional = detector.observe(_in("eu-west", results))
    assert [t.to_dict() for t in regional] == [t.to_dict() for t in alone]
    assert [t.new for t in alone][-1] is Status.OPERATIONAL
    assert "regions" not in detector.statuses()[TARGET].details
