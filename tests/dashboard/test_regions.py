"""The page's regions: the region filter and each target's per-region status and figures, read
through the store and the read model (`TargetNow.region_status`), on a two-region store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dashboard import data, series
from monitor.config import Config
from monitor.detect.regions import combine
from monitor.detect.types import Status, TargetStatus
from monitor.store import Store, detection
from tests.factories import MINUTE, TARGETS, probe, regional_probes, seed

OPENAI, ANTHROPIC = TARGETS[0], TARGETS[1]
# eu-west: fast, every 5th probe fails; us-east: slow, nothing fails.
REGIONS = {"eu-west": (200.0, 5), "us-east": (900.0, 0)}


def two_regions(store: Store, now: datetime) -> None:
    """Three hours of OPENAI from two regions, ANTHROPIC from eu-west only, and the detector's
    combined status of OPENAI with a quorum of two: down in eu-west, operational in us-east, so
    degraded and regional."""
    start = now - timedelta(hours=3)
    probes = regional_probes(OPENAI, start, 180, MINUTE, REGIONS)
    probes += regional_probes(ANTHROPIC, start, 180, MINUTE, {"eu-west": (300.0, 0)})
    seed(store, sorted(probes, key=lambda p: p.ts))
    per = {
        "eu-west": TargetStatus(OPENAI, Status.DOWN, now, ["errors"]),
        "us-east": TargetStatus(OPENAI, Status.OPERATIONAL, now),
    }
    detection.save_detection(store, statuses=[combine(OPENAI, per, 2, now)], now=now)


@pytest.fixture
def now() -> datetime:
    return datetime.now(UTC).replace(second=0, microsecond=0)


def test_each_target_has_each_regions_status_and_figures(store: Store, now: datetime) -> None:
    two_regions(store, now)
    page = data.load(store, Config(), now, range_key="6h")
    assert page.regions == ["eu-west", "us-east"]
    rows = {r.region: r for r in page.by_region[OPENAI]}
    assert set(rows) == {"eu-west", "us-east"}
    # The status each region sees is its detection's (the quorum's input), as the API says it.
    assert rows["eu-west"].status == "down" and rows["us-east"].status == "operational"
    assert page.current.targets[OPENAI].status is Status.DEGRADED  # one of two: regional
    assert rows["eu-west"].ttft_p50_ms == pytest.approx(200.0)
    assert rows["us-east"].ttft_p95_ms == pytest.approx(900.0)
    assert rows["eu-west"].error_rate == pytest.approx(36 / 180)
    assert rows["us-east"].error_rate == 0.0
    assert rows["eu-west"].probes == rows["us-east"].probes == 180
    # A target probed from one region: that region sees the target's own status.
    (only,) = page.by_region[ANTHROPIC]
    assert (only.region, only.status) == ("eu-west", page.current.targets[ANTHROPIC].status.value)


def test_a_region_filter_keeps_only_that_regions_probes(store: Store, now: datetime) -> None:
    two_regions(store, now)
    every = data.load(store, Config(), now, range_key="6h")
    east = data.load(store, Config(), now, range_key="6h", regions=["us-east"])
    up = {r.target: r.uptime["24h"] for r in every.targets}
    up_east = {r.target: r.uptime["24h"] for r in east.targets}
    assert up[OPENAI] == pytest.approx(1 - 36 / 360)
    assert up_east[OPENAI] == 1.0
    assert up_east[ANTHROPIC] is None  # never probed from us-east
    assert [r.region for r in east.by_region[OPENAI]] == ["us-east"]
    assert ANTHROPIC not in east.by_region
    # The charts and the newest probes are us-east's too.
    ttfts = [p.percentile("ttft", 0.5) for p in east.series.lines[OPENAI] if p.n]
    assert ttfts and all(t == pytest.approx(900.0) for t in ttfts if t is not None)
    assert east.recent and {r.region for r in east.recent} == {"us-east"}
    # The statuses stay each target's combined one.
    assert east.current.targets[OPENAI].status is Status.DEGRADED


def test_one_region_shows_no_region_breakdown(store: Store, now: datetime) -> None:
    seed(store, regional_probes(OPENAI, now - timedelta(hours=1), 60, MINUTE, {"here": (200, 0)}))
    page = data.load(store, Config(), now, range_key="6h")
    assert page.regions == ["here"] and page.by_region == {}


def test_settled_chart_points_are_kept_and_the_newest_are_read_again(
    store: Store, now: datetime
) -> None:
    """A refresh reads only buckets that may still change: a result stored late into a settled
    bucket is not read again (it shows once that point is forgotten), one in the newest is."""
    names = [f"p{i}/m" for i in range(12)]  # more than few enough to chart probe by probe
    start = now - timedelta(hours=5)
    seed(store, [probe(start + i * MINUTE, n, ttft_ms=100.0) for i in range(300) for n in names])
    since = now - timedelta(hours=6)
    first = series.load_series(store, since, now, names)
    assert first.step > 0
    late_old = probe(start + 5 * MINUTE, names[0], ttft_ms=100.0, canary="late")
    late_new = probe(now - MINUTE, names[0], ttft_ms=100.0, canary="late")
    seed(store, [late_old, late_new])
    again = series.load_series(store, since, now, names)
    line = "p0"  # more than MAX_LINES targets: one line per provider, here one target each
    before = {p.bucket: p.n for p in first.lines[line]}
    after = {p.bucket: p.n for p in again.lines[line]}
    newest = max(after)
    assert after[newest] == before[newest] + 1  # the newest bucket was read again
    assert sum(after.values()) == sum(before.values()) + 1  # the settled one was kept
    series._kept.clear()
    fresh = series.load_series(store, since, now, names)
    assert sum(p.n for p in fresh.lines[line]) == sum(before.values()) + 2
