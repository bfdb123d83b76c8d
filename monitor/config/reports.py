"""`reports:` — scheduled reports, delivered through the alert channels (read by
`monitor.reports.scheduled`).

reports:
  scheduled:
    - name: weekly
      cron: "0 8 * * mon"        # when to send (five cron fields) …
      timezone: Europe/Paris     # … in this time zone (default UTC)
      period: 7d                 # the report covers this much time before each send
      format: html               # the attachment: md | html | csv | json
      channels: [oncall]         # alert channel names (default: every channel)
      targets: ["openai/*"]      # targets, providers or patterns (default: all)
      attach: true               # false: only the summary, in the message body
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from monitor.config.schema import Duration, Strict


class ScheduledReport(Strict):
    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.\- ]+$")
    cron: str
    timezone: str = "UTC"
    period: Duration = 7 * 86400.0
    format: Literal["md", "html", "csv", "json"] = "html"
    channels: list[str] = Field(default_factory=list)
    targets: list[str] = Field(default_factory=list)
    attach: bool = True

    @field_validator("period")
    @classmethod
    def _positive(cls, value: float) -> float:
        if value <= 0:
            raise ValueError("must be greater than zero")
        return value

    @model_validator(mode="after")
    def _cron_parses(self) -> ScheduledReport:
        self.trigger()
        return self

    def trigger(self) -> Any:  # apscheduler has no type hints
        """The APScheduler trigger of `cron` in `timezone`; ValueError when either is invalid."""
        from apscheduler.triggers.cron import CronTrigger

        try:
            return CronTrigger.from_crontab(self.cron, timezone=self.timezone)
        except Exception as exc:  # apscheduler raises ValueError or zoneinfo errors
            raise ValueError(f"cron {self.cron!r} (timezone {self.timezone}): {exc}") from None


class ReportsConfig(Strict):
    scheduled: list[ScheduledReport] = Field(default_factory=list)

    @field_validator("scheduled")
    @classmethod
    def _unique_names(cls, value: list[ScheduledReport]) -> list[ScheduledReport]:
        names = [r.name for r in value]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"scheduled report name used twice: {', '.join(twice)}")
        return value
