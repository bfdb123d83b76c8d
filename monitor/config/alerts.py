"""`alerts:` — notification channels (Apprise URLs) and `maintenance:` windows (read by
`monitor.alerts`).

alerts:
  - name: oncall
    urls: ["slack://${SLACK_TOKEN_A}/${SLACK_TOKEN_B}/${SLACK_TOKEN_C}"]
    targets: ["openai/*", anthropic]       # globs on PROVIDER/MODEL, or provider names
    severities: [down, recovered]          # of degraded, down, recovered
    cooldown: 15m
    remind_every: 1h
  - name: tickets
    urls: ["github://${GITHUB_TOKEN}@owner/repo"]
    slo_alerts: [ticket]                   # SLO alerts it takes: page (default), ticket
  - name: team
    config: [/etc/brownout/apprise.yml]    # Apprise config files, with their tags
    tags: [llm]
maintenance:
  - name: openai migration
    targets: [openai]
    start: 2026-12-01T02:00:00Z
    end: 2026-12-01T04:00:00Z
  - name: nightly vLLM restart
    targets: ["vllm/*"]
    cron: "0 3 * * *"                      # recurring: starts at each cron time …
    duration: 20m                          # … and lasts this long
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from fnmatch import fnmatchcase
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from monitor.config.schema import Duration, Strict
from monitor.target import selected

Severity = Literal["degraded", "down", "recovered"]
SEVERITIES: tuple[Severity, ...] = ("degraded", "down", "recovered")
# SLO burn-rate alerts (monitor.slo): the fast-burn page and the slow-burn ticket.
SloAlert = Literal["page", "ticket"]
DEFAULT_SLO_ALERTS: tuple[SloAlert, ...] = ("page",)


class DeliveryConfig(Strict):
    """`delivery:` how the outbox is sent (monitor.alerts.delivery).

    `lease`: a message claimed for sending longer ago than this was claimed by a monitor that
    stopped mid-send, and is sent again (at least once: it may be a repeat). Keep it well above
    the slowest channel's send time. `max_attempts`: failed attempts before a message is `failed`.
    """

    lease: Duration = 600.0
    max_attempts: int = Field(10, ge=1)

    @field_validator("lease")
    @classmethod
    def _positive(cls, value: float) -> float:
        if value <= 0:
            raise ValueError("must be greater than zero")
        return value


class AlertChannel(Strict):
    """Who hears what, and how: Apprise URLs and/or Apprise config files, and a filter."""

    name: str = Field(min_length=1)
    urls: list[str] = Field(default_factory=list)
    # Apprise config files (YAML or TEXT, paths or http(s) URLs); `tags` picks services in them.
    config: list[str] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    targets: list[str] = Field(default_factory=list)  # globs; empty: every target
    providers: list[str] = Field(default_factory=list)  # globs on provider names; empty: all
    severities: list[Severity] = Field(default_factory=lambda: list(SEVERITIES))
    # A new incident on a target is not announced again on this channel within `cooldown` of the
    # previous announcement (flapping); escalations to `down` and recoveries always go through.
    cooldown: Duration = 900.0
    # While an announced incident stays open, say so again this often (none: never).
    remind_every: Duration | None = None
    # Alerts wait this long for others to join them, so a fleet-wide brownout is one message.
    group_wait: Duration = 30.0
    # A message about at least this many providers is titled an intelligence brownout.
    fleet_threshold: int = Field(3, ge=2)
    # Which SLO burn-rate alerts this channel takes (docs/alerts.md): `page` (the fast-burn
    # pairs) and/or `ticket` (the slow-burn 3d/6h pair, off unless a channel asks); [] for none.
    slo_alerts: list[SloAlert] = Field(default_factory=lambda: list(DEFAULT_SLO_ALERTS))

    @field_validator("urls")
    @classmethod
    def _urls_have_a_scheme(cls, urls: list[str]) -> list[str]:
        for url in urls:
            if "://" not in url:
                raise ValueError("each url must be an Apprise URL such as slack://… or mailto://…")
        return urls

    @model_validator(mode="after")
    def _somewhere_to_send(self) -> AlertChannel:
        if not self.urls and not self.config:
            raise ValueError(f"alert channel {self.name!r} needs urls or config")
        if self.tags and not self.config:
            raise ValueError("tags select services in Apprise config files; give config too")
        if not {"degraded", "down"} & set(self.severities):
            # recoveries are only told to those who heard of the problem
            raise ValueError("severities needs degraded or down (recovered alone never fires)")
        return self

    def wants(self, target: str) -> bool:
        """This channel's target/provider filter lets `target` through."""
        provider = target.partition("/")[0]
        providers_ok = not self.providers or any(fnmatchcase(provider, p) for p in self.providers)
        return providers_ok and selected(self.targets, target)


class MaintenanceWindow(Strict):
    """A time during which nothing is sent for the matching targets (still recorded).

    Either a fixed range (`start` and/or `end`; a silence is just an `end`) or a recurring window
    (`cron`, five fields, plus `duration`). `targets` are globs on PROVIDER/MODEL or provider
    names (empty: every target); `channels` limits the window to some channels (empty: all).
    """

    name: str = ""
    targets: list[str] = Field(default_factory=list)
    channels: list[str] = Field(default_factory=list)
    start: datetime | None = None
    end: datetime | None = None
    cron: str | None = None
    duration: Duration | None = None
    timezone: str = "UTC"

    @field_validator("start", "end")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value

    @model_validator(mode="after")
    def _one_kind(self) -> MaintenanceWindow:
        fixed = self.start is not None or self.end is not None
        if fixed and self.cron:
            raise ValueError("a maintenance window is either start/end or cron + duration")
        if not fixed and not self.cron:
            raise ValueError("a maintenance window needs start/end or cron + duration")
        if self.cron:
            if not self.duration:
                raise ValueError("a recurring (cron) window needs a duration")
            self._trigger()  # raises ValueError on a bad expression or time zone
        if self.start and self.end and self.end <= self.start:
            raise ValueError("end must be after start")
        return self

    def _trigger(self) -> Any:  # apscheduler has no type hints
        from apscheduler.triggers.cron import CronTrigger

        try:
            return CronTrigger.from_crontab(self.cron, timezone=self.timezone)
        except Exception as exc:  # apscheduler raises ValueError or zoneinfo errors
            raise ValueError(f"cron {self.cron!r} (timezone {self.timezone}): {exc}") from None

    def occurrences(self, since: datetime, until: datetime) -> list[tuple[datetime, datetime]]:
        """The (start, end) spans of this window that overlap `[since, until)`, unclipped.

        A fixed window without `start` or `end` is open on that side (datetime.min / max).
        """
        if self.cron is None:
            start = self.start or datetime.min.replace(tzinfo=UTC)
            end = self.end or datetime.max.replace(tzinfo=UTC)
            return [(start, end)] if start < until and end > since else []
        assert self.duration is not None
        length = timedelta(seconds=self.duration)
        trigger, spans = self._trigger(), []
        fire = trigger.get_next_fire_time(None, since - length + timedelta(microseconds=1))
        while fire is not None and fire < until:
            spans.append((fire.astimezone(UTC), (fire + length).astimezone(UTC)))
            fire = trigger.get_next_fire_time(fire, fire + timedelta(seconds=1))
        return spans

    def covers(self, target: str, channel: str, at: datetime) -> bool:
        """`target` on `channel` is in this window at `at`."""
        if self.channels and channel not in self.channels:
            return False
        if not selected(self.targets, target):
            return False
        if self.cron is None:
            return (self.start is None or self.start <= at) and (self.end is None or at < self.end)
        assert self.duration is not None
        length = timedelta(seconds=self.duration)
        # The window is open when a cron time falls in (at - duration, at].
        fire = self._trigger().get_next_fire_time(None, at - length + timedelta(microseconds=1))
        return fire is not None and fire <= at
