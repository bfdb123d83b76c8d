"""A slow target is not missing data: the real scheduler probing the simulator every second,
answers taking 1.6 s, detection ticking as `brownout run` does (more often, to catch any flap)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from monitor.config import Config
from monitor.detect.types import Status
from monitor.pipeline.detection import DetectionService
from monitor.runner import Monitor, Scheduler, make_client
from monitor.simulator.thread import SimulatorHandle
from monitor.store import Store
from monitor.store import detection as stored
from tests.factories import DetectionSink, sim_config

FAST = {"name": "fast", "defaults": {"ttft": "10ms", "tokens_per_s": 2000}}
SLOW = {"name": "slow", "defaults": {"ttft": "1.6s", "tokens_per_s": 2000}}
TARGET = "sim/gpt-4o-mini"


def _config(sim: SimulatorHandle) -> Config:
    return sim_config(
        sim,
        schedule={"interval": "1s", "timeout": "5s", "jitter": 0},
        # A short warm-up, so that the test needs seconds, not minutes.
        detection={"latency": {"min_samples": 5}, "ttft": {"min_samples": 5}},
    )


async def test_a_target_slower_than_its_interval_is_degraded_as_slow_and_never_stale(
    simulator_factory: Callable[..., SimulatorHandle], store: Store
) -> None:
    sim = simulator_factory(FAST)
    config = _config(sim)
    service = DetectionService(store, config)
    service.restore()

    async def tick() -> None:
        await monitor.in_pipeline(service.tick)

    async with make_client(config) as client:
        monitor = Monitor(config, store, client, sinks=[DetectionSink(service)])
        scheduler = Scheduler(monitor, grace=6.0, periodic=[(0.1, tick)])
        scheduler.start()
        try:
            for _ in range(200):  # until the fast baseline is learned (bounded)
                if monitor.health.stored >= 8:
                    break
                await asyncio.sleep(0.1)
            assert service.statuses()[TARGET].status is Status.OPERATIONAL
            sim.set_scenario(SLOW)
            await asyncio.sleep(9.0)  # answers take 1.6 s against a 1 s interval
        finally:
            await scheduler.stop()

    transitions = stored.transitions_between(store, None, None)
    assert [t.new for t in transitions if t.new is Status.UNKNOWN] == []
    assert [(t.old, t.new) for t in transitions] == [
        (Status.UNKNOWN, Status.OPERATIONAL),
        (Status.OPERATIONAL, Status.DEGRADED),
    ]
    # Its first token and its whole answer are both 1.6 s late: either timing signal may be
    # first to see it (on a busy machine the TTFT's often is), never a missing-data one.
    assert set(transitions[-1].reasons) & {"latency", "ttft"}, transitions[-1].reasons
    assert service.statuses()[TARGET].status is Status.DEGRADED
