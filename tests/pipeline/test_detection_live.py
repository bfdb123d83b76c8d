"""Detection fed by real probes: the simulator on loopback, the probe runner, a SQLite file."""

from __future__ import annotations

from collections.abc import Callable

from monitor.detect.types import Status
from monitor.simulator.thread import SimulatorHandle
from monitor.store import Store, detection
from tests.factories import live_status_after

HEALTHY = {"name": "healthy", "defaults": {"ttft": "5ms", "tokens_per_s": 2000}}
OUTAGE = {"name": "outage", "defaults": {"ttft": "5ms", "errors": {"overloaded": 1.0}}}


async def test_a_simulated_outage_is_detected_from_real_probes(
    simulator_factory: Callable[..., SimulatorHandle], store: Store
) -> None:
    sim = simulator_factory(HEALTHY)
    status = await live_status_after(sim, store, OUTAGE, probes=3)
    assert (status.status, status.reasons) == (Status.DOWN, ["errors"])
    [incident] = detection.open_incidents(store)
    assert incident.worst is Status.DOWN
