"""`dashboard:` — the status page's settings. Owned by dashboard/."""

from __future__ import annotations

from monitor.config.schema import Strict


class DashboardConfig(Strict):
    public: bool = False  # public mode: statuses, uptime, charts, incidents; no answers, errors, costs
    url: str | None = None  # where the page is served, for links in alerts
