"""Several real `brownout run` processes on one database: one leader, one set of transitions,
incidents and alerts; a SIGKILLed leader replaced; regions and their quorum."""

from __future__ import annotations

import itertools
import json
import socket
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from monitor.detect.types import Status
from monitor.simulator import SimulatorHandle
from monitor.store import detection, outbox, results
from tests.commands.conftest import (
    FAILING,
    FAST,
    Brownout,
    Receiver,
    leader,
    read,
    wait_for,
    write_config,
)

TARGET = "openai/gpt-4o-mini"


def _status(url: str) -> Status | None:
    statuses = read(url, detection.stored_statuses)
    return statuses[TARGET].status if TARGET in statuses else None


def _open_incidents(url: str) -> list[Any]:
    return list(read(url, detection.open_incidents))


def _check_one_history(url: str, receiver: Receiver) -> None:
    """One set: each transition starts where the previous ended, one incident, every outbox
    row delivered once and nothing else received."""
    transitions = read(url, detection.transitions_between)
    for before, after in itertools.pairwise(transitions):
        assert after.old == before.new, f"{before} then {after}"
        assert after.new != before.new
    incidents = read(url, detection.incidents_between)
    assert len(incidents) == 1
    rows = read(url, outbox.all_rows)
    assert [r.status for r in rows] == ["delivered"] * len(rows)
    assert not any(r.resent for r in rows)
    assert len(receiver.received) == len(rows)
    titles = receiver.titles
    assert any("down" in t for t in titles), titles
    assert titles[-1] == f"{TARGET} has recovered"
    assert len(set(titles)) == len(titles), titles


def _two_monitors_see_an_outage(
    tmp_path: Path,
    db_url: str,
    sim: SimulatorHandle,
    receiver: Receiver,
    monitors: Callable[..., Brownout],
) -> tuple[Brownout, Brownout]:
    """Start a leader and a follower on one database, wait for operational, take the simulator
    down, and wait for `down` and its alert: (the leader, the follower)."""
    config = write_config(tmp_path / "probes.yaml", db_url, sim, receiver=receiver)
    first = monitors(tmp_path / "first.log", "--config", str(config))
    wait_for(lambda: "this monitor leads" in first.log(), what="the first monitor leads")
    second = monitors(tmp_path / "second.log", "--config", str(config))
    wait_for(lambda: "this monitor follows" in second.log(), what="the second follows")
    wait_for(lambda: _status(db_url) is Status.OPERATIONAL, what="operational")

    sim.set_scenario(FAILING)
    wait_for(lambda: _status(db_url) is Status.DOWN, what="down")
    wait_for(lambda: any("down" in t for t in receiver.titles), what="the down alert")
    return first, second


def test_two_monitors_on_one_database_store_one_set_of_transitions_incidents_and_alerts(
    tmp_path: Path,
    db_url: str,
    simulator_factory: Callable[..., SimulatorHandle],
    receiver: Receiver,
    monitors: Callable[..., Brownout],
) -> None:
    sim = simulator_factory(FAST)
    first, second = _two_monitors_see_an_outage(tmp_path, db_url, sim, receiver, monitors)
    sim.set_scenario(FAST)
    wait_for(lambda: not _open_incidents(db_url), what="the incident closed")
    wait_for(lambda: "has recovered" in " ".join(receiver.titles), what="the recovery alert")
    assert second.stop() == 0
    assert first.stop() == 0

    _check_one_history(db_url, receiver)
    # Both probed: results from two processes, one detection over them.
    assert read(db_url, results.count) > 0
    # The second leads only after the first lost the lease: a renewal missed under heavy load
    # (seen at load 12-14) is a real handover, which the fence keeps to one history above.
    if "this monitor leads" in second.log():
        assert "this monitor no longer leads" in first.log()


def test_a_sigkilled_leader_is_replaced_and_the_open_incident_carried_on_without_lost_or_repeated_alerts(
    tmp_path: Path,
    db_url: str,
    simulator_factory: Callable[..., SimulatorHandle],
    receiver: Receiver,
    monitors: Callable[..., Brownout],
) -> None:
    sim = simulator_factory(FAST)
    first, second = _two_monitors_see_an_outage(tmp_path, db_url, sim, receiver, monitors)
    [incident] = _open_incidents(db_url)
    before = leader(db_url)
    assert before is not None and before.holder.endswith(f":{first.pid}")

    first.kill()
    wait_for(lambda: "this monitor leads" in second.log(), what="the second takes over")
    after = leader(db_url)
    assert after is not None and after.holder.endswith(f":{second.pid}")
    assert after.token == before.token + 1

    sim.set_scenario(FAST)
    wait_for(lambda: not _open_incidents(db_url), what="the incident closed")
    wait_for(lambda: "has recovered" in " ".join(receiver.titles), what="the recovery alert")
    assert second.stop() == 0

    [closed] = read(db_url, detection.incidents_between)
    assert closed.id == incident.id  # carried on, not a second incident
    _check_one_history(db_url, receiver)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_three_regions_write_at_once_and_one_failing_region_is_a_regional_brownout(
    tmp_path: Path,
    pg_url: str,
    simulator_factory: Callable[..., SimulatorHandle],
    receiver: Receiver,
    monitors: Callable[..., Brownout],
) -> None:
    regions = ["eu-west", "us-east", "ap-south"]
    sims = {region: simulator_factory(FAST) for region in regions}
    port = _free_port()
    procs = {}
    for region in regions:
        config = write_config(tmp_path / f"{region}.yaml", pg_url, sims[region], receiver=receiver)
        args = ["--config", str(config), "--region", region]
        if region == "eu-west":
            args += ["--http", f"127.0.0.1:{port}"]
        procs[region] = monitors(tmp_path / f"{region}.log", *args)
        if region == "eu-west":
            wait_for(lambda: "this monitor leads" in procs["eu-west"].log(), what="a leader")

    def by_region() -> dict[str, str]:
        statuses = read(pg_url, detection.stored_statuses)
        return dict(statuses[TARGET].details.get("by_region", {})) if TARGET in statuses else {}

    wait_for(
        lambda: by_region() == {r: "operational" for r in regions}, what="every region reports"
    )
    counts = read(pg_url, lambda s: {r.region for r in results.between(s)})
    assert counts == set(regions)

    sims["us-east"].set_scenario(FAILING)  # only us-east's network to the provider fails
    wait_for(lambda: by_region().get("us-east") == "down", what="us-east down")
    statuses = read(pg_url, detection.stored_statuses)
    status = statuses[TARGET]
    assert status.status is Status.DEGRADED  # not down: one region of three
    assert status.details["regions"] == ["us-east"]
    assert status.details["regional"] is True
    wait_for(lambda: any("us-east" in t for t in receiver.titles), what="a regional alert")
    assert any("only in us-east (regional)" in t for t in receiver.titles), receiver.titles

    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as response:
        health = json.loads(response.read())
    assert health["runner"]["leadership"]["role"] == "leader"
    assert health["leader"]["region"] == "eu-west"
    assert health["leader"]["holder"].endswith(f":{procs['eu-west'].pid}")

    sims["ap-south"].set_scenario(FAILING)  # a second region: a quorum of two
    wait_for(lambda: _status(pg_url) is Status.DOWN, what="down by quorum")
    for proc in procs.values():
        assert proc.stop() == 0
