"""Wiring the pipeline behind the probes: detection after each stored batch, alerts after each
transition, and the periodic work (detection ticks, alert delivery and reminders, retention,
scheduled reports, the providers' own status pages).

`build_services` is the one place that knows which services exist; `run`, `once` and `demo` call
it, so every entry point feeds the same pipeline.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx

from monitor.alerts.service import AlertService
from monitor.config import Config
from monitor.detect.types import Transition
from monitor.memory import release_free_memory
from monitor.pipeline.detection import DetectionService
from monitor.pipeline.statuspages import poll_statuspages
from monitor.read.slo import burning
from monitor.reports.scheduled import ReportScheduler
from monitor.result import ProbeResult, utcnow
from monitor.store import Store, retention

log = logging.getLogger(__name__)

Periodic = tuple[float, Callable[[], Awaitable[object]]]
InPipeline = Callable[[Callable[[], Any]], Awaitable[Any]]

DETECTION_TICK_S = 5.0
DELIVERY_EVERY_S = 5.0
REMIND_EVERY_S = 60.0
RETENTION_EVERY_S = 3600.0
RELEASE_EVERY_S = 600.0  # free heap pages back to the system (monitor.memory)
REPORTS_EVERY_S = 60.0


@dataclass
class Services:
    """The pipeline's services for one monitor process."""

    config: Config
    store: Store
    detection: DetectionService
    alerts: AlertService | None
    clock: Callable[[], datetime] = utcnow
    sinks: list[Any] = field(default_factory=list)

    def transitions(self, transitions: Sequence[Transition]) -> None:
        if transitions and self.alerts is not None:
            self.alerts.on_transitions(transitions)

    def periodic(self, in_pipeline: InPipeline, client: httpx.AsyncClient) -> list[Periodic]:
        """Periodic jobs; database writes go through `in_pipeline` (the single writer thread)."""
        detection, alerts = self.detection, self.alerts

        async def tick() -> None:
            await in_pipeline(lambda: self.transitions(detection.tick()))

        async def prune() -> None:
            pruned = await in_pipeline(
                lambda: retention.prune_for(self.store, self.config.storage, self.clock())
            )
            log.info("retention: %s", pruned)

        async def release() -> None:
            await asyncio.to_thread(release_free_memory)

        jobs: list[Periodic] = [
            (DETECTION_TICK_S, tick),
            (RETENTION_EVERY_S, prune),
            (RELEASE_EVERY_S, release),
        ]
        if alerts is not None:

            async def remind() -> None:
                await in_pipeline(alerts.remind)
                await in_pipeline(
                    lambda: alerts.on_burn(
                        burning(self.store, self.config, self.clock(), alerts.slo_severities)
                    )
                )

            jobs += [(DELIVERY_EVERY_S, alerts.deliver_due), (REMIND_EVERY_S, remind)]
        if self.config.reports.scheduled:
            reports = ReportScheduler(self.config, self.store, self.clock)

            async def send_reports() -> None:
                await asyncio.to_thread(reports.tick)

            jobs.append((REPORTS_EVERY_S, send_reports))
        if self.config.statuspages.pages:

            async def poll() -> None:
                await poll_statuspages(client, self.store, self.config, clock=self.clock)

            jobs.append((self.config.statuspages.interval, poll))
        return jobs


class _DetectAndAlert:
    """The sink that runs detection over each stored batch and hands transitions to alerts."""

    def __init__(self, services: Services) -> None:
        self.services = services

    def on_results(self, batch: Sequence[ProbeResult]) -> None:
        self.services.transitions(self.services.detection.observe(batch))


def build_services(
    config: Config,
    store: Store,
    clock: Callable[[], datetime] = utcnow,
    *,
    alerts: bool = True,
    restore: bool = True,
) -> Services:
    """Detection (restored from the database unless `restore=False`) and, unless `alerts=False`,
    alerts, as a sink."""
    detection = DetectionService(store, config, clock)
    if restore:
        detection.restore()
    services = Services(
        config=config,
        store=store,
        detection=detection,
        alerts=AlertService(store, config, clock) if alerts else None,
        clock=clock,
    )
    services.sinks.append(_DetectAndAlert(services))
    return services
