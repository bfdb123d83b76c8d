"""Scheduled reports (`reports.scheduled` in the config), delivered through the alert channels.

    scheduler = ReportScheduler(config, store)
    scheduler.tick()    # call every minute or so (blocking: Apprise); sends what is due

Each report covers `period` before its send time, goes to its channels' destinations (Apprise
URLs and config files) with the rendered report attached (or only a summary, `attach: false`).
A failed destination is logged with its address masked and does not stop the others; the next
send is at the next cron time (a missed report is not re-sent, the next one covers its period).
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from monitor.alerts.channels import Destination, destinations
from monitor.config import Config
from monitor.config.reports import ScheduledReport
from monitor.reports import fmt
from monitor.reports.build import build_report
from monitor.reports.model import Report
from monitor.reports.render import render
from monitor.result import utcnow
from monitor.store import Store

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Delivery:
    report: str
    destination: str  # masked address
    ok: bool
    error: str | None = None


def summary(report: Report, name: str) -> tuple[str, str]:
    """A title and a plain-text body that say the essentials without opening the attachment."""
    f = report.fleet
    title = (
        f"brownout {name} report: {fmt.pct(f.time_availability)} available (time-weighted), "
        f"{f.incidents} incident{'s' if f.incidents != 1 else ''}"
    )
    lines = [
        f"{fmt.when(report.since)} – {fmt.when(report.until)}",
        f"Time-weighted availability {fmt.availability(f)} · probe success {fmt.pct(f.success_rate, 2)}"
        f" of {f.probes:,} probes",
        f"Down {fmt.span(f.down_s)} · degraded {fmt.span(f.degraded_s)} · incidents {f.incidents}"
        f" · MTTR {fmt.span(f.mttr_s)}",
        f"Latency p50/p95 {fmt.ms(f.latency_p50_ms)} / {fmt.ms(f.latency_p95_ms)}"
        f" · canary pass {fmt.canary(f)}",
    ]
    worst = sorted(
        (t for t in report.targets if t.time_availability is not None),
        key=lambda t: t.time_availability or 0.0,
    )[:3]
    if worst:
        lines.append(
            "Least available: "
            + ", ".join(f"{t.name} {fmt.pct(t.time_availability)}" for t in worst)
        )
    lines += report.notes
    return title, "\n".join(lines)


def send_report(
    store: Store, config: Config, spec: ScheduledReport, now: datetime
) -> list[Delivery]:
    """Build `spec`'s report for the period ending `now` and deliver it. Blocking."""
    report = build_report(
        store, config, now - timedelta(seconds=spec.period), now, spec.targets or None, now=now
    )
    title, body = summary(report, spec.name)
    channels = [c for c in config.alerts if not spec.channels or c.name in spec.channels]
    missing = sorted(set(spec.channels) - {c.name for c in config.alerts})
    if missing:
        log.warning("report %s: no alert channel named %s", spec.name, ", ".join(missing))
    out = []
    with tempfile.TemporaryDirectory(prefix="brownout-report-") as tmp:
        attachment = None
        if spec.attach:
            attachment = (
                Path(tmp) / f"brownout-{spec.name.replace(' ', '-')}-{now:%Y-%m-%d}.{spec.format}"
            )
            attachment.write_text(render(report, spec.format), encoding="utf-8")
        for channel in channels:
            for destination in destinations(channel):
                out.append(_deliver(spec.name, destination, title, body, attachment))
    return out


def _deliver(
    name: str, destination: Destination, title: str, body: str, attachment: Path | None
) -> Delivery:
    import apprise  # here, not at import: ~17 MB that only delivery needs

    instance = apprise.Apprise()
    if destination.url is not None:
        added = instance.add(destination.url)
    else:
        assert destination.config_file is not None
        config = apprise.AppriseConfig()
        added = config.add(destination.config_file) and instance.add(config)
    if not added:
        return _failed(name, destination, "Apprise cannot use this destination")
    attach = apprise.AppriseAttachment()
    if attachment is not None:
        attach.add(str(attachment))
    tag = list(destination.tags) or apprise.common.MATCH_ALL_TAG
    try:
        ok = instance.notify(body=body, title=title, attach=attach or None, tag=tag)
    except Exception as exc:  # a plugin bug must not stop the other destinations
        return _failed(name, destination, destination.scrub(f"{type(exc).__name__}: {exc}"))
    if not ok:
        return _failed(name, destination, "Apprise reported a failure")
    return Delivery(name, destination.address, True)


def _failed(name: str, destination: Destination, reason: str) -> Delivery:
    log.warning("report %s to %s failed: %s", name, destination.address, reason)
    return Delivery(name, destination.address, False, reason)


class ReportScheduler:
    """Sends each scheduled report when its cron time has passed; `tick` is the periodic call."""

    def __init__(
        self, config: Config, store: Store, clock: Callable[[], datetime] = utcnow
    ) -> None:
        self.config = config
        self.store = store
        self.clock = clock
        start = clock()
        self._next: dict[str, datetime | None] = {
            spec.name: spec.trigger().get_next_fire_time(None, start)
            for spec in config.reports.scheduled
        }

    def next_times(self) -> dict[str, datetime | None]:
        return dict(self._next)

    def tick(self) -> list[Delivery]:
        """Send every report whose time has come (once, however late); returns the deliveries."""
        now = self.clock()
        out: list[Delivery] = []
        for spec in self.config.reports.scheduled:
            due = self._next.get(spec.name)
            if due is None or due > now:
                continue
            # The next time strictly after now (APScheduler's "next after previous" would walk
            # through every missed time): a monitor that slept through sends sends one report.
            self._next[spec.name] = spec.trigger().get_next_fire_time(
                None, now + timedelta(microseconds=1)
            )
            try:
                out += send_report(self.store, self.config, spec, due)
            except Exception:
                log.exception("scheduled report %s failed", spec.name)
        return out
