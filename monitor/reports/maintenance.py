"""Maintenance windows as intervals, for taking them out of availability.

The `maintenance:` section is the alerts role's (`monitor.config.alerts.MaintenanceWindow`); this
module is the one place the report reads it, so a change of its shape is a change here only.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from monitor.config import Config
from monitor.durations import format_duration
from monitor.reports.timeline import Interval
from monitor.target import selected


def windows_for(config: Config, target: str, since: datetime, until: datetime) -> list[Interval]:
    """The maintenance intervals that apply to `target`, clipped to `[since, until)`, merged."""
    found: list[Interval] = []
    for window in config.maintenance:
        if not _applies(window, target):
            continue
        for start, end in _occurrences(window, since, until):
            start, end = max(start, since), min(end, until)
            if end > start:
                found.append((start, end))
    found.sort()
    merged: list[Interval] = []
    for start, end in found:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _applies(window: Any, target: str) -> bool:
    """Windows limited to some alert channels silence only those: they are not maintenance of
    the provider, so they do not count here."""
    if getattr(window, "channels", None):
        return False
    patterns = getattr(window, "targets", None) or []
    return selected(patterns, target)


def _occurrences(window: Any, since: datetime, until: datetime) -> list[Interval]:
    occurrences = getattr(window, "occurrences", None)
    if callable(occurrences):  # fixed or recurring (cron), as the alerts role defines them
        return [(_utc(a), _utc(b)) for a, b in occurrences(since, until)]
    start, end = getattr(window, "start", None), getattr(window, "end", None)
    if isinstance(start, datetime) and isinstance(end, datetime):
        return [(_utc(start), _utc(end))]
    return []


def _utc(ts: datetime) -> datetime:
    return ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)


def describe(config: Config, since: datetime, until: datetime) -> list[str]:
    """One line per maintenance window that falls in `[since, until)`, for the report's note."""
    out = []
    for window in config.maintenance:
        if getattr(window, "channels", None) or not _occurrences(window, since, until):
            continue
        start, end = getattr(window, "start", None), getattr(window, "end", None)
        cron, length = getattr(window, "cron", None), getattr(window, "duration", None)
        if cron:
            zone = getattr(window, "timezone", "UTC")
            when = f"at {cron!r} ({zone}) for {format_duration(length or 0)}"
        else:
            when = f"{_ts(start, 'the beginning')} – {_ts(end, 'further notice')}"
        targets = getattr(window, "targets", None) or ["all targets"]
        name = getattr(window, "name", None)
        out.append(f"{name + ': ' if name else ''}{when} ({', '.join(targets)})")
    return out


def _ts(value: Any, otherwise: str) -> str:
    return f"{_utc(value):%Y-%m-%d %H:%M} UTC" if isinstance(value, datetime) else otherwise
