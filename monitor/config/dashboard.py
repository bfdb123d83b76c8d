"""`dashboard:` — the status page's settings (read by `dashboard/`).

dashboard:
  public: true      # statuses, uptime, charts, incidents; no answers, errors, costs
  refresh: 30s      # how often the page refreshes its live part
"""

from __future__ import annotations

from pydantic import Field

from monitor.config.schema import Duration, Strict


class DashboardConfig(Strict):
    # Public mode, for sharing outside the team: no answers, error texts, costs or downloads.
    public: bool = False
    url: str | None = None  # where the page is served, for links in alerts
    refresh: Duration = Field(default=30.0, gt=0)
