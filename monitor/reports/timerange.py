"""The time range of a report or an export, as people write it: `--since 30d`, `--until 2026-11-01`.

A bound is either a duration back from now (`30d`, `12h`, `1w`) or an ISO date or time
(`2026-11-01`, `2026-11-01T08:00`, `2026-11-01T08:00:00Z`); naive dates and times are UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from monitor.durations import DurationOutOfRange, parse_duration
from monitor.errors import UsageError
from monitor.result import parse_ts


def parse_bound(text: str, now: datetime, *, option: str = "--since") -> datetime:
    """The instant `text` names, relative to `now` when it is a duration.

    Raises UsageError with one sentence when `text` is neither a duration nor a date.
    """
    value = text.strip()
    try:
        seconds = parse_duration(value)
    except DurationOutOfRange:
        raise UsageError(f"{option} {text!r} reaches back more than 100 years") from None
    except ValueError:
        pass
    else:
        return now - timedelta(seconds=seconds)
    try:
        return parse_ts(value).astimezone(UTC)
    except (ValueError, OverflowError):
        raise UsageError(
            f"{option} {text!r} is neither a duration (30d, 12h) nor a date (2026-11-01)"
        ) from None


def parse_range(since: str, until: str | None, now: datetime) -> tuple[datetime, datetime]:
    """`(since, until)` as instants; `until` defaults to `now`. Raises UsageError when empty."""
    start = parse_bound(since, now, option="--since")
    end = parse_bound(until, now, option="--until") if until else now
    if until is None and start >= now:
        raise UsageError(f"--since {since!r} is not in the past; give a duration such as 30d")
    if end <= start:
        raise UsageError(
            f"--until ({end:%Y-%m-%d %H:%M}) must come after --since ({start:%Y-%m-%d %H:%M})"
        )
    return start, end
