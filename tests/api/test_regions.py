"""Regions on the read side: `?region=` on /api/status, the `region` label and the leader in
/metrics."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import httpx

from monitor.config import Config
from monitor.detect.regions import combine
from monitor.detect.types import Status, TargetStatus
from monitor.result import utcnow
from monitor.store import Store, detection, lease, results
from tests.factories import probe


def _two_regions(store: Store, config: Config) -> str:
    target = config.targets()[0].name
    now = utcnow()
    batch = []
    for i in range(10):
        ts = now - timedelta(seconds=20 * (i + 1))
        batch.append(dataclasses.replace(probe(ts, target), region="eu-west"))
        batch.append(dataclasses.replace(probe(ts, target, outcome="overloaded"), region="us-east"))
    results.record(store, batch)
    per = {
        "eu-west": TargetStatus(target, Status.OPERATIONAL, now),
        "us-east": TargetStatus(target, Status.DOWN, now, ["errors"]),
        "ap-south": TargetStatus(target, Status.OPERATIONAL, now),
    }
    detection.save_detection(store, statuses=[combine(target, per, None, now)], now=now)
    return target


def test_the_status_of_one_region_is_asked_for_with_region(
    store: Store, config: Config, api: str
) -> None:
    target = _two_regions(store, config)

    everywhere = httpx.get(f"{api}/api/status").json()
    in_us = httpx.get(f"{api}/api/status", params={"region": "us-east"}).json()

    [whole] = [t for t in everywhere["targets"] if t["target"] == target]
    assert whole["status"] == "degraded"
    assert (whole["regions"], whole["regional"]) == (["us-east"], True)
    [us] = [t for t in in_us["targets"] if t["target"] == target]
    assert in_us["region"] == "us-east"
    assert (us["region"], us["region_status"], us["status"]) == ("us-east", "down", "degraded")
    assert us["figures"]["probes"] == 10
    assert whole["figures"]["probes"] == 20


def test_metrics_carry_each_regions_status_and_who_leads(
    store: Store, config: Config, api: str
) -> None:
    target = _two_regions(store, config)
    provider, _, model = target.partition("/")
    assert lease.acquire(store, "probe-eu:1", "eu-west", ttl=600) == 1

    text = httpx.get(f"{api}/metrics").text

    line = (
        f'brownout_target_region_status{{model="{model}",provider="{provider}",'
        f'region="us-east",status="down"}} 1.0'
    )
    assert line in text
    assert 'brownout_leader{region="eu-west"} 1.0' in text
    assert 'region="us-east"' in text.split("brownout_probes_total", 1)[1]
