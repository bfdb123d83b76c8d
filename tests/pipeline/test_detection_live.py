"""Detection fed by real probes: the simulator on loopback, the probe runner, a SQLite file."""

from __future__ import annotations

from collections.abc import Callable

from monitor.detect.types import Status
from monitor.pipeline.detection import DetectionService
from monitor.runner import Monitor, make_client
from monitor.simulator.thread import SimulatorHandle
from monitor.store import Store, detection
from tests.factories import DetectionSink, MinuteClock, sim_config

HEALTHY = {"name": "healthy", "defaults": {"ttft": "5ms", "tokens_per_s": 2000}}
OUTAGE = {"name": "outage", "defaults": {"ttft": "5ms", "errors": {"overloaded": 1.0}}}


async def test_a_simulated_outage_is_detected_from_real_probes(
    simulator_factory: Callable[..., SimulatorHandle], store: Store
) -> None:
    sim = simulator_factory(HEALTHY)
    config = sim_config(sim)
    clock = MinuteClock()
    service = DetectionService(store, config, clock)
    service.restore()
    async with make_client(config) as client:
        monitor = Monitor(config, store, client, sinks=[DetectionSink(service)], clock=clock)
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
