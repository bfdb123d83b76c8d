"""Maintenance windows and silences: is a (target, channel) pair held back at a moment?"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from monitor.config.alerts import MaintenanceWindow


def silenced_by(
    windows: Sequence[MaintenanceWindow], target: str, channel: str, at: datetime
) -> str | None:
    """The name of the first window covering `target` on `channel` at `at` (a placeholder name
    when the window has none), or None when nothing holds the pair back."""
    for index, window in enumerate(windows):
        if window.covers(target, channel, at):
            return window.name or f"maintenance window #{index + 1}"
    return None
