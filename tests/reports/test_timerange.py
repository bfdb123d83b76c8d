"""`--since` and `--until`: durations back from now, or ISO dates and times (UTC when naive)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from monitor.errors import UsageError
from monitor.reports.timerange import parse_bound, parse_range

NOW = datetime(2026, 11, 28, 12, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "instant"),
    [
        ("30d", NOW - timedelta(days=30)),
        ("12h", NOW - timedelta(hours=12)),
        ("1w", NOW - timedelta(days=7)),
        ("1h30m", NOW - timedelta(minutes=90)),
        ("2026-11-01", datetime(2026, 11, 1, tzinfo=UTC)),
        ("2026-11-01T08:00", datetime(2026, 11, 1, 8, tzinfo=UTC)),
        ("2026-11-01T08:00:00Z", datetime(2026, 11, 1, 8, tzinfo=UTC)),
        ("2026-11-01T09:00:00+01:00", datetime(2026, 11, 1, 8, tzinfo=UTC)),
    ],
)
def test_a_bound_is_a_duration_back_from_now_or_a_date(text: str, instant: datetime) -> None:
    assert parse_bound(text, NOW) == instant


# "30" has no unit: thirty what? A bare number is refused rather than guessed.
@pytest.mark.parametrize("text", ["banana", "", "30", "-3d", "2026-13-01", "yesterday"])
def test_anything_else_is_a_usage_error_in_one_sentence(text: str) -> None:
    with pytest.raises(UsageError, match="is neither a duration") as caught:
        parse_bound(text, NOW)
    assert "\n" not in str(caught.value)


def test_until_defaults_to_now_and_must_come_after_since() -> None:
    assert parse_range("1d", None, NOW) == (NOW - timedelta(days=1), NOW)
    with pytest.raises(UsageError, match="must come after"):
        parse_range("2026-11-02", "2026-11-01", NOW)
