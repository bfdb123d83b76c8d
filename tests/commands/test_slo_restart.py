"""An SLO burn across a restart of `brownout run`: paged once, not again by the monitor that
comes after, and resolved by it when the burn stops.

Two real `brownout run` processes, one after the other, over the same SQLite file, probing a
simulated provider that fails; their alerts go through Apprise to a loopback webhook. The
second run's first burn check logs the burns it found open, so the test knows it has checked
the burn (and sent nothing) before the test ends the burn.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from monitor.result import utcnow
from monitor.simulator import SimulatorHandle
from monitor.store import results, slo_burns
from tests.commands.conftest import FAILING, FAST, Brownout, Receiver, read, wait_for, write_config
from tests.factories import burning_hour, probe

# Each run checks burns once a minute (monitor.pipeline.services.REMIND_EVERY_S).
pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

TARGET = "openai/gpt-4o-mini"
PAGE = f"{TARGET} is burning its error budget (availability 99%)"
RESOLVED = f"Resolved: {PAGE.replace('is burning', 'is no longer burning')}"
PASS_S = 180.0  # bounds a wait for the next burn check, a minute away


def _count(receiver: Receiver, title: str) -> int:
    return receiver.titles.count(title)


def test_a_restart_neither_pages_the_same_burn_again_nor_forgets_to_resolve_it(
    tmp_path: Path,
    sqlite_url: str,
    simulator_factory: Callable[..., SimulatorHandle],
    receiver: Receiver,
    monitors: Callable[..., Brownout],
) -> None:
    sim = simulator_factory(FAILING)
    config = write_config(
        tmp_path / "probes.yaml",
        sqlite_url,
        sim,
        receiver=receiver,
        interval="5s",
        provider_extra="    slo: {availability: 99%}\n",
    )
    # The hour before: half the probes failed, 50× a 99 % budget.
    read(sqlite_url, lambda store: results.record(store, burning_hour(utcnow(), fail_every=2)))

    first = monitors(tmp_path / "first.log", "--config", str(config))
    wait_for(lambda: _count(receiver, PAGE) == 1, PASS_S, "the first run pages")
    assert first.stop() == 0
    paged = read(sqlite_url, slo_burns.open_burns)
    assert list(paged) == [(TARGET, "availability", "page")]

    second = monitors(tmp_path / "second.log", "--config", str(config))
    wait_for(lambda: "still open from before" in second.log(), PASS_S, "the second run's check")
    time.sleep(6)  # a page queued in that pass would be delivered within a delivery interval
    assert _count(receiver, PAGE) == 1, receiver.titles

    # The burn stops: the provider answers again, and another monitor's probes (written to the
    # same database) fill the short windows with good answers.
    sim.set_scenario(FAST)
    now = utcnow()
    good = [probe(now - timedelta(seconds=i % 240), TARGET) for i in range(4000)]
    read(sqlite_url, lambda store: results.record(store, good))
    wait_for(lambda: _count(receiver, RESOLVED) == 1, PASS_S, "the second run resolves it")
    assert second.stop() == 0

    assert _count(receiver, PAGE) == 1 and _count(receiver, RESOLVED) == 1, receiver.titles
    burns = read(sqlite_url, slo_burns.all_burns)
    assert [(b.severity, b.ended_at is not None, b.told()) for b in burns] == [
        ("page", True, ["oncall"])
    ]
