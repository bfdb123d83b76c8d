"""Detection fed by real probes: the simulator on loopback, the probe runner, a SQLite file."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from monitor.config import Config
from monitor.detect.types import Status
from monitor.pipeline.detection import DetectionService
from monitor.result import ProbeResult
from monitor.runner import Monitor, make_client
from monitor.simulator.thread import SimulatorHandle
from monitor.store import Store, detection
from tests.factories import T0

HEALTHY = {"name": "healthy", "defaults": {"ttft": "5ms", "tokens_per_s": 2000}}
OUTAGE = {"name": "outage", "defaults": {"ttft": "5ms", "errors": {"overloaded": 1.0}}}


class MinuteClock:
    """Each reading is one minute later: probes one a minute, as far as detection can tell."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        self.now += timedelta(minutes=1)
        return self.now


class Detect:
    def __init__(self, service: DetectionService) -> None:
        self.service = service

    def on_results(self, batch: Sequence[ProbeResult]) -> None:
        self.service.observe(batch)


async def test_a_simulated_outage_is_detected_from_real_probes(
    simulator_factory: Callable[..., SimulatorHandle], store: Store
) -> None:
    sim = simulator_factory(HEALTHY)
    data: dict[str, Any] = {
        "providers": {
            "sim": {
                "kind": "openai",
                "base_url": sim.openai_url,
                "api_key": "sk-sim-0123456789",
                "models": ["gpt-4o-mini"],
            }
        },
        "canaries": [
            {
                "name": "arithmetic",
                "prompt": "What is 17 * 23? Reply with the number only.",
                "expect": {"equals": "391"},
            }
        ],
    }
    config = Config.model_validate(data)
    clock = MinuteClock()
    service = DetectionService(store, config, clock)
    service.restore()
    async with make_client(config) as client:
        monitor = Monitor(config, store, client, sinks=[Detect(service)], clock=clock)
        for _ in range(40):
            await monitor.run_once(config.targets())
        await monitor.in_pipeline(lambda: None)  # the sinks have seen every batch
        assert service.statuses()["sim/gpt-4o-mini"].status is Status.OPERATIONAL
        sim.set_scenario(OUTAGE)
        for _ in range(3):
            await monitor.run_once(config.targets())
        # run_once returns once the results are written; the sinks are fed just after, in the
        # pipeline thread, which runs this after them.
        await monitor.in_pipeline(lambda: None)

    status = service.statuses()["sim/gpt-4o-mini"]
    assert (status.status, status.reasons) == (Status.DOWN, ["errors"])
    [incident] = detection.open_incidents(store)
    assert incident.worst is Status.DOWN
