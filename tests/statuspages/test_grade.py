"""The grade of a provider's official status page, from brownout's own incidents beside the
provider's posts."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from monitor.detect.types import IncidentRecord, Status
from monitor.result import parse_ts
from monitor.statuspages.grade import grade_pages, letter
from monitor.statuspages.model import OfficialIncident

T0 = parse_ts("2026-11-01T00:00:00Z")
UNTIL = T0 + timedelta(days=30)
WINDOW = timedelta(hours=3)
PAGES = {"anthropic": ["anthropic"]}


def ours(
    day: int, minutes: float = 30, target: str = "anthropic/claude-haiku-4-5"
) -> IncidentRecord:
    start = T0 + timedelta(days=day)
    return IncidentRecord(target, start, Status.DOWN, end=start + timedelta(minutes=minutes))


def post(day: int, after_min: float, page: str = "anthropic") -> OfficialIncident:
    at: datetime = T0 + timedelta(days=day, minutes=after_min)
    return OfficialIncident(page, f"p{day}", "Elevated errors", "resolved", "major", at)


@pytest.mark.parametrize(
    ("share", "median", "grade"),
    [
        (1.0, 60.0, "A"),
        (0.9, 300.0, "A"),
        (1.0, 301.0, "B"),
        (0.8, 600.0, "B"),
        (1.0, 1200.0, "C"),
        (0.5, None, "C"),
        (1.0, 7200.0, "D"),
        (0.3, 60.0, "D"),
        (0.2, 60.0, "F"),
        (0.0, None, "F"),
        (1.0, -600.0, "A"),  # posted before brownout saw it
    ],
)
def test_the_letter_follows_the_share_posted_and_the_median_lead(
    share: float, median: float | None, grade: str
) -> None:
    assert letter(share, median) == grade


def test_a_page_that_posts_every_event_quickly_earns_an_a() -> None:
    incidents = [ours(1), ours(5), ours(9)]
    posted = [post(1, 2), post(5, 4), post(9, 3)]

    [g] = grade_pages(incidents, posted, PAGES, WINDOW, UNTIL)

    assert (g.events, g.posted, g.never_posted, g.posted_first) == (3, 3, 0, 0)
    assert g.median_lead_s == 180.0
    assert g.grade == "A"


def test_events_never_posted_and_late_posts_lower_the_grade() -> None:
    incidents = [ours(1), ours(5), ours(9), ours(12)]
    posted = [post(1, 40), post(5, -5)]  # 40 min late; and once before brownout

    [g] = grade_pages(incidents, posted, PAGES, WINDOW, UNTIL)

    assert (g.events, g.posted, g.never_posted, g.posted_first) == (4, 2, 2, 1)
    assert g.median_lead_s == pytest.approx((40 * 60 - 5 * 60) / 2)
    assert g.grade == "C"


def test_overlapping_incidents_on_several_targets_are_one_event_and_blips_do_not_count() -> None:
    incidents = [
        ours(1, 60, "anthropic/claude-haiku-4-5"),
        IncidentRecord(
            "anthropic/claude-sonnet-4-5",
            T0 + timedelta(days=1, minutes=10),
            Status.DEGRADED,
            end=T0 + timedelta(days=1, minutes=50),
        ),
        ours(3, 4),  # a four-minute blip: no page is expected to post that
    ]

    [g] = grade_pages(incidents, [post(1, 5)], PAGES, WINDOW, UNTIL)

    assert (g.events, g.posted, g.grade) == (1, 1, "A")


def test_a_provider_with_no_events_has_no_grade_and_another_providers_are_not_counted() -> None:
    incidents = [ours(1, target="openai/gpt-4o-mini")]

    [g] = grade_pages(incidents, [post(1, 2)], PAGES, WINDOW, UNTIL)

    assert (g.provider, g.events, g.grade) == ("anthropic", 0, None)


def test_an_open_incident_counts_up_to_the_end_of_the_range() -> None:
    still = IncidentRecord("anthropic/claude-haiku-4-5", UNTIL - timedelta(minutes=20), Status.DOWN)

    [g] = grade_pages([still], [], PAGES, WINDOW, UNTIL)

    assert (g.events, g.never_posted, g.grade) == (1, 1, "F")
