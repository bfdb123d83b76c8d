"""`alerts:` — notification channels (Apprise URLs) and `maintenance:` windows. Owned by monitor/alerts."""

from __future__ import annotations

from pydantic import Field

from monitor.config.schema import Strict


class AlertChannel(Strict):
    name: str
    urls: list[str] = Field(default_factory=list)


class MaintenanceWindow(Strict):
    """A time during which nothing is sent for the matching targets (still recorded)."""
