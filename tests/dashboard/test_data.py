"""The page's data: what it reads for each range, how days are coloured, what filters keep."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dashboard import data
from dashboard.bars import day_status
from dashboard.series import MAX_LINES, choose_grain, load_series
from monitor.detect.types import Status
from monitor.read.now import status_now
from monitor.store import Store, results, rollups
from monitor.store.rollups import DAY, HOUR, MINUTE, Agg
from tests.dashboard.conftest import DOWN, Seeded


@pytest.mark.parametrize(
    "span,lines,grain,step",
    [
        (HOUR, 4, MINUTE, MINUTE),
        (6 * HOUR, 4, MINUTE, 2 * MINUTE),
        (DAY, 4, MINUTE, 10 * MINUTE),
        (DAY, 200, HOUR, HOUR),  # 288,000 minute rows would be too many to sum
        (7 * DAY, 4, HOUR, HOUR),
        (30 * DAY, 4, HOUR, 6 * HOUR),
        (90 * DAY, 4, HOUR, 12 * HOUR),
        (90 * DAY, 200, DAY, DAY),
    ],
)
def test_charts_read_the_finest_rollups_that_stay_within_budget(
    span: int, lines: int, grain: int, step: int
) -> None:
    assert choose_grain(span, lines) == (grain, step)


def counts(n: int, failed: int = 0, checked: int = 0, passed: int = 0) -> Agg:
    return Agg(
        values={"n": n, "n_ok": n - failed, "n_server_error": failed, "n_quality": checked,
                "n_quality_ok": passed}
    )  # fmt: skip


@pytest.mark.parametrize(
    "agg,status",
    [
        (None, Status.UNKNOWN),
        (counts(1440), Status.OPERATIONAL),
        (counts(1440, failed=5), Status.OPERATIONAL),
        (counts(1440, failed=30), Status.DEGRADED),
        (counts(1440, failed=200), Status.DOWN),
        (counts(1440, checked=1440, passed=1300), Status.DEGRADED),
    ],
)
def test_a_day_without_incident_records_is_coloured_by_its_figures(
    agg: Agg | None, status: Status
) -> None:
    assert day_status(agg) is status


def test_filters_keep_the_targets_of_the_chosen_providers_and_models() -> None:
    names = ["openai/a", "openai/b", "anthropic/a", "openrouter/x/a"]
    assert data.select(names, ["openai"], None) == ["openai/a", "openai/b"]
    assert data.select(names, None, ["a"]) == ["openai/a", "anthropic/a"]
    assert data.select(names, [], []) == names


def test_many_targets_are_charted_one_line_per_provider(seeded: Seeded) -> None:
    names = [f"p{i % 3}/m{i}" for i in range(MAX_LINES + 1)]
    series = load_series(seeded.store, seeded.now - timedelta(hours=1), seeded.now, names)
    assert series.by == "provider"
    few = load_series(
        seeded.store, seeded.now - timedelta(hours=1), seeded.now, [DOWN, "openai/gpt-4o-mini"]
    )
    assert few.by == "target" and set(few.lines) == {DOWN, "openai/gpt-4o-mini"}


def test_the_page_agrees_with_the_rollups_and_the_detector(seeded: Seeded) -> None:
    page = data.load(seeded.store, seeded.config, seeded.now, range_key="7d")
    exact = rollups.summary(seeded.store, seeded.now - timedelta(days=7), seeded.now, finest=HOUR)
    for row in page.targets:
        assert row.uptime["7d"] == pytest.approx(exact[row.target].uptime)
    assert page.incidents is not None and page.incidents[0].open
    today = datetime.now(UTC).date()
    cell = next(c for c in page.days if c.target == DOWN and c.day == today)
    assert cell.status is Status.DOWN and cell.agg is not None and cell.agg.n > 0
    assert page.recent is not None and page.recent[0].ts >= page.recent[-1].ts


def test_public_mode_never_reads_the_probes(seeded: Seeded) -> None:
    page = data.load(seeded.store, seeded.config, seeded.now, public=True)
    assert page.recent is None and "recent" not in page.timings


def test_the_page_reads_postgresql_as_it_reads_sqlite(any_store: Store) -> None:
    from monitor.config import Config
    from monitor.demo.backfill import generate

    now = datetime.now(UTC).replace(microsecond=0)
    names = ["openai/gpt-4o-mini", "anthropic/claude-haiku-4-5"]
    results.record(any_store, list(generate(names, now - timedelta(hours=3), now)))
    for key in data.RANGES:
        page = data.load(any_store, Config(), now, range_key=key)
        assert [r.target for r in page.targets] == sorted(names)
        assert all(r.uptime["24h"] is not None for r in page.targets)
        assert set(page.series.lines) == set(names)
    assert page.recent is not None and len(page.recent) == 100


@pytest.mark.parametrize(
    "kind,status,reasons",
    [(None, Status.OPERATIONAL, []), ("outage", Status.DOWN, ["errors"]),
     ("quality", Status.DEGRADED, ["quality"])],
)  # fmt: skip
def test_before_detection_sees_a_target_the_plain_rule_reads_the_minute_rollups(
    store: Store, kind: str | None, status: Status, reasons: list[str]
) -> None:
    from monitor.config import Config
    from monitor.demo.backfill import Episode, generate

    now = datetime.now(UTC)
    since = now - timedelta(minutes=8)
    trouble = [Episode("a/x", since, now, kind)] if kind else []  # type: ignore[arg-type]
    results.record(store, list(generate(["a/x"], since, now, episodes=trouble, seed=3)))
    got = status_now(store, Config(), now, ["a/x", "b/never-probed"]).targets
    assert (got["a/x"].status, got["a/x"].reasons) == (status, reasons)
    assert got["b/never-probed"].status is Status.UNKNOWN


def test_with_a_few_minutes_of_history_every_probe_is_a_chart_point(store: Store) -> None:
    from monitor.config import Config
    from monitor.demo.backfill import generate

    now = datetime.now(UTC)
    names = ["a/x", "b/y"]
    batch = list(generate(names, now - timedelta(minutes=8), now, seed=3))
    results.record(store, batch)

    page = data.load(store, Config(), now, range_key="24h")

    assert (page.series.grain, page.series.step) == (0, 0)
    assert sum(len(points) for points in page.series.lines.values()) == len(batch)
    first = page.series.lines["a/x"][0]
    assert first.percentile("lat", 0.5) is not None and first.start >= now - timedelta(minutes=9)


def test_the_page_says_in_words_how_many_targets_are_in_each_state(store: Store) -> None:
    from monitor.config import Config
    from monitor.demo.backfill import generate
    from monitor.detect.types import TargetStatus
    from monitor.store import detection

    now = datetime.now(UTC)
    names = ["a/x", "a/y", "b/z"]
    results.record(store, list(generate(names, now - timedelta(minutes=8), now, seed=3)))
    detection.save_detection(
        store,
        statuses=[
            TargetStatus("a/x", Status.DEGRADED, now, ["latency"]),
            TargetStatus("a/y", Status.OPERATIONAL, now),
            TargetStatus("b/z", Status.DOWN, now, ["errors"]),
        ],
        now=now,
    )

    page = data.load(store, Config(), now)

    assert page.summary == (
        "3 targets: 1 operational, 1 degraded, 1 down. Down: b/z (errors). Degraded: a/x (latency)."
    )
    # the 30-day uptime of eight minutes of data says so
    assert page.targets[0].coverage["30d"] is not None
    assert 7 * 60 <= page.targets[0].coverage["30d"] <= 9 * 60  # type: ignore[operator]
