"""The official status page formats beside Atlassian Statuspage: incident.io's widget API,
Google Cloud's incidents.json and Instatus, each read from bodies shaped as those services
publish them, and told apart by shape."""

from __future__ import annotations

from typing import Any

import pytest

from monitor.result import parse_ts
from monitor.statuspages.formats import detect, read, siblings
from tests.factories import (
    GOOGLE_CLOUD_INCIDENTS,
    INCIDENTIO_WIDGET,
    INSTATUS_COMPONENTS,
    INSTATUS_SUMMARY,
)

SEEN = parse_ts("2026-12-01T10:05:00Z")


@pytest.mark.parametrize(
    ("body", "fmt"),
    [
        (INCIDENTIO_WIDGET, "incidentio"),
        (GOOGLE_CLOUD_INCIDENTS, "google_cloud"),
        (INSTATUS_SUMMARY, "instatus"),
        ({"page": {}, "components": [], "incidents": []}, "statuspage"),
    ],
)
def test_each_format_is_told_apart_by_its_shape(body: Any, fmt: str) -> None:
    assert detect(body) == fmt


@pytest.mark.parametrize("body", [{"hello": 1}, "text", 42, None])
def test_a_body_of_no_known_format_is_refused(body: Any) -> None:
    with pytest.raises(ValueError, match="not a status page format"):
        detect(body)


def test_an_incidentio_widget_gives_its_incidents_and_their_components() -> None:
    reading = read("incidentio", "openai", INCIDENTIO_WIDGET, {}, SEEN)

    assert reading.lists_only_open
    first, second = reading.incidents
    # No post time in the first: it is read as posted when first seen, and says so.
    assert (first.created_at, first.created_at_is_first_seen) == (SEEN, True)
    assert (first.status, first.impact) == ("identified", "major")
    assert first.components == ["Chat Completions", "Responses"]
    assert (second.created_at, second.created_at_is_first_seen) == (
        parse_ts("2026-12-01T09:30:00Z"),
        False,
    )
    assert second.impact == "critical"
    assert {(c.name, c.status) for c in reading.components} == {
        ("Chat Completions", "partial_outage"),
        ("Responses", "degraded_performance"),
        ("Fine-tuning", "major_outage"),
    }


def test_google_clouds_incidents_give_open_products_as_components() -> None:
    reading = read("google_cloud", "gemini", GOOGLE_CLOUD_INCIDENTS, {}, SEEN)

    assert not reading.lists_only_open
    assert [(i.incident_id, i.status, i.impact) for i in reading.incidents] == [
        ("mR3kQm1tZXd2Zk", "investigating", "major"),
        ("oldOne", "resolved", "critical"),
    ]
    current = reading.incidents[0]
    assert current.created_at == parse_ts("2026-12-01T09:52:11Z")  # posted, not begun
    assert current.started_at == parse_ts("2026-12-01T09:40:00Z")
    assert current.shortlink == "https://status.cloud.google.com/incidents/mR3kQm1tZXd2Zk"
    assert reading.incidents[1].resolved_at == parse_ts("2026-11-20T03:00:00Z")
    # Only the product of the open incident is a component (Cloud Storage's incident ended).
    assert [(c.name, c.status) for c in reading.components] == [
        ("Vertex Gemini API", "partial_outage")
    ]


def test_instatus_reads_its_summary_and_its_component_list() -> None:
    assert siblings("instatus", "https://example.instatus.com/summary.json") == {
        "components": "https://example.instatus.com/v2/components.json"
    }
    reading = read(
        "instatus", "example", INSTATUS_SUMMARY, {"components": INSTATUS_COMPONENTS}, SEEN
    )

    assert reading.lists_only_open
    [incident] = reading.incidents
    assert (incident.status, incident.impact) == ("investigating", "critical")
    assert incident.created_at == parse_ts("2026-12-01T09:58:00Z")
    assert [(c.name, c.status) for c in reading.components] == [
        ("API", "major_outage"),
        ("Dashboard", "operational"),
    ]


def test_instatus_without_its_component_list_still_gives_incidents() -> None:
    reading = read("instatus", "example", INSTATUS_SUMMARY, {}, SEEN)
    assert reading.components == [] and len(reading.incidents) == 1
