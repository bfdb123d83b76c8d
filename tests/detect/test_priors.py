"""What is wrong from the start does not become the baseline: a tight baseline still sees a big
jump, and a target with no history of its own is judged against the same model elsewhere."""

from __future__ import annotations

from collections.abc import Callable

from monitor.config import Config
from monitor.detect.engine import Detector
from monitor.detect.types import Status
from monitor.simulator.thread import SimulatorHandle
from monitor.store import Store
from tests.factories import healthy_stream, live_status_after

HEALTHY = {"name": "healthy", "defaults": {"ttft": "20ms", "tokens_per_s": 2000}}
SLOW_START = {"name": "ttft x15", "defaults": {"ttft": "300ms", "tokens_per_s": 2000}}


async def test_a_ttft_jump_of_15x_after_40_probes_of_a_flat_server_is_degraded(
    simulator_factory: Callable[..., SimulatorHandle], store: Store
) -> None:
    sim = simulator_factory(HEALTHY)
    status = await live_status_after(sim, store, SLOW_START, probes=10)
    assert status.status is Status.DEGRADED
    assert "ttft" in status.reasons
    assert status.details["ttft"]["ratio"] > 5  # 15x in the simulator, less overhead


def test_a_target_slow_from_its_first_probe_is_judged_against_the_same_model_elsewhere() -> None:
    detector = Detector(Config())
    detector.observe(healthy_stream(0, 100, target="openai/gpt-4o-mini"))
    slow = healthy_stream(100, 20, target="azure/gpt-4o-mini", slow=15.0)
    peer = healthy_stream(100, 20, target="openai/gpt-4o-mini")
    detector.observe(sorted(slow + peer, key=lambda r: r.ts))

    status = detector.statuses()["azure/gpt-4o-mini"]
    assert status.status is Status.DEGRADED
    assert "latency" in status.reasons
    assert status.details["latency"]["baseline_of"] == "openai/gpt-4o-mini"
    assert status.details["latency"]["ratio"] > 8
    assert detector.statuses()["openai/gpt-4o-mini"].status is Status.OPERATIONAL


def test_a_target_as_fast_as_its_peer_learns_its_own_baseline_quietly() -> None:
    detector = Detector(Config())
    detector.observe(healthy_stream(0, 100, target="openai/gpt-4o-mini"))
    # Somewhat slower than the peer (another provider of the same model): not a brownout.
    detector.observe(healthy_stream(100, 300, target="azure/gpt-4o-mini", slow=1.6, seed=3))
    assert detector.statuses()["azure/gpt-4o-mini"].status is Status.OPERATIONAL


def test_without_a_peer_a_target_slow_from_the_start_is_learned_as_it_is() -> None:
    # What docs/detection.md says a monitor started in the middle of a brownout sees.
    detector = Detector(Config())
    detector.observe(healthy_stream(0, 100, target="azure/gpt-4o-mini", slow=15.0))
    assert detector.statuses()["azure/gpt-4o-mini"].status is Status.OPERATIONAL
