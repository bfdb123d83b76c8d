"""Wiring the pipeline behind the probes: detection after each stored batch, alerts after each
transition, and the periodic work (detection ticks, alert delivery, reminders, retention).

`build_services` is the one place that knows which services exist; `run`, `once` and `demo` call
it, so every entry point feeds the same pipeline.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from monitor.config import Config
from monitor.result import ProbeResult, utcnow
from monitor.store import Store

log = logging.getLogger(__name__)

Periodic = tuple[float, Callable[[], Awaitable[None]]]


@dataclass
class Services:
    """The pipeline's services for one monitor process."""

    detection: Any = None
    alerts: Any = None
    sinks: list[Any] = field(default_factory=list)

    def periodic(
        self, in_pipeline: Callable[[Callable[[], Any]], Awaitable[Any]]
    ) -> list[Periodic]:
        """Periodic jobs; database work goes through `in_pipeline` (the single writer)."""
        jobs: list[Periodic] = []
        if self.detection is not None:
            detection = self.detection

            async def tick() -> None:
                transitions = await in_pipeline(detection.tick)
                if transitions and self.alerts is not None:
                    await in_pipeline(lambda: self.alerts.on_transitions(transitions))

            jobs.append((5.0, tick))
        if self.alerts is not None:
            alerts = self.alerts

            async def deliver() -> None:
                await alerts.deliver_due()

            async def remind() -> None:
                await in_pipeline(alerts.remind)

            jobs.append((5.0, deliver))
            jobs.append((60.0, remind))
        return jobs


class _DetectAndAlert:
    """The sink that runs detection over each stored batch and hands transitions to alerts."""

    def __init__(self, detection: Any, alerts: Any) -> None:
        self.detection = detection
        self.alerts = alerts

    def on_results(self, batch: Sequence[ProbeResult]) -> None:
        transitions = self.detection.observe(batch)
        if transitions and self.alerts is not None:
            self.alerts.on_transitions(transitions)


def build_services(
    config: Config, store: Store, clock: Callable[[], datetime] = utcnow, *, alerts: bool = True
) -> Services:
    """Detection (restored from the database) and alerts, wired as a sink."""
    services = Services()
    try:
        from monitor.detect.service import DetectionService
    except ImportError:  # pragma: no cover - detection not built yet
        return services
    services.detection = DetectionService(store, config, clock)
    services.detection.restore()
    if alerts:
        try:
            from monitor.alerts.service import AlertService

            services.alerts = AlertService(store, config, clock)
        except ImportError:  # pragma: no cover - alerts not built yet
            services.alerts = None
    services.sinks.append(_DetectAndAlert(services.detection, services.alerts))
    return services
