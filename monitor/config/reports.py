"""`reports:` — scheduled reports. Owned by monitor/reports."""

from __future__ import annotations

from monitor.config.schema import Strict


class ReportsConfig(Strict):
    """Scheduled reports; filled in by the reports issue."""
