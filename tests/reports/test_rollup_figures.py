"""The report's rollup figures read in bulk (`Rollups.daily_and_by_region`, the sketches as arrays)
are the ones the former path gave: each rollup converted to `Figures` and merged one by one."""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta

import pytest

from monitor.config import Config
from monitor.figures import Figures
from monitor.reports.build import build_report
from monitor.reports.render import render
from monitor.reports.source import RawResults, Rollups
from monitor.result import Outcome, ProbeResult
from monitor.sketch import Sketch, from_json, parse_many, to_json
from monitor.store import Store, rollups
from tests.factories import T0, probe, seed

QS = (0.0, 0.01, 0.25, 0.5, 0.9, 0.95, 0.99, 1.0)
TARGETS = ("openai/gpt-4o-mini", "openai/gpt-4o", "anthropic/claude-haiku-4-5", "groq/llama")
REGIONS = ("eu-west", "us-east", "ap-south")
# Not on whole days or hours: minute edges from raw results, hour rows, then day rows.
SINCE, UNTIL = T0 + timedelta(hours=5, minutes=17), T0 + timedelta(days=9, hours=20, minutes=41)


class FormerRollups(Rollups):
    """The path before the bulk read: `rollups.fetch` per piece, every aggregate turned into
    `Figures` (`Agg.figures`) and merged one by one, once per day and once per region."""

    def daily_and_by_region(
        self,
        since: datetime,
        until: datetime,
        targets: Sequence[str] | None,
        regions: Sequence[str] | None = None,
    ) -> tuple[dict[tuple[str, date], Figures], dict[tuple[str, str], Figures]]:
        walks: list[dict] = []  # type: ignore[type-arg]
        raw = RawResults(self.store)
        for by_region in (False, True):
            out: dict = {}  # type: ignore[type-arg]
            for grain, start, end in rollups.plan(since, until):
                lo, hi = datetime.fromtimestamp(start, UTC), datetime.fromtimestamp(end, UTC)
                if grain == rollups.MINUTE:
                    edge_lo, edge_hi = max(lo, since), min(hi, until)
                    edges = (raw.by_region if by_region else raw.daily)(
                        edge_lo, edge_hi, targets, regions
                    )
                    for key, edge in edges.items():
                        out.setdefault(key, Figures()).merge(edge)
                    continue
                for agg in rollups.fetch(
                    self.store,
                    grain,
                    lo,
                    hi,
                    targets=targets,
                    step=rollups.DAY,
                    regions=regions,
                    by_region=by_region,
                ):
                    key = (agg.target, agg.region) if by_region else (agg.target, agg.start.date())
                    out.setdefault(key, Figures()).merge(agg.figures())
            walks.append(out)
        return walks[0], walks[1]


def history() -> list[ProbeResult]:
    """Ten days of four targets probed from three regions every 20 minutes: every outcome, a few
    slow stretches, zero and sub-millisecond timings, tokens/s spread wide."""
    rng = random.Random(7)
    out = []
    ts = T0
    while ts < T0 + timedelta(days=10):
        for i, target in enumerate(TARGETS):
            for region in REGIONS[: 1 + (i % 3)]:
                roll = rng.random()
                if roll < 0.04:
                    out.append(probe(ts, target, outcome=Outcome.TIMEOUT, region=region))
                elif roll < 0.06:
                    out.append(probe(ts, target, outcome=Outcome.RATE_LIMITED, region=region))
                elif roll < 0.09:
                    out.append(probe(ts, target, outcome=Outcome.WRONG_ANSWER, region=region))
                else:
                    slow = 6.0 if ts.day % 3 == 0 and ts.hour < 4 else 1.0
                    out.append(
                        probe(
                            ts,
                            target,
                            region=region,
                            ttft_ms=rng.choice([0.0, 0.4, rng.lognormvariate(5.5, 0.6) * slow]),
                            latency_ms=rng.lognormvariate(6.8, 0.5) * slow,
                            tokens_per_s=rng.choice([None, rng.uniform(0.5, 900.0)]),
                            cost_usd=rng.uniform(0, 0.001),
                        )
                    )
        ts += timedelta(minutes=20)
    return out


@pytest.fixture
def seeded(any_store: Store) -> Store:
    seed(any_store, history())
    return any_store


def _same_sketch(a: Sketch, b: Sketch) -> None:
    assert (a.count, a.zeros, a.low, a.high) == (b.count, b.zeros, b.low, b.high)
    assert [a.quantile(q) for q in QS] == [b.quantile(q) for q in QS]
    assert dict(a.buckets) == dict(b.buckets)


def _same_figures(a: Figures, b: Figures) -> None:
    assert (a.probes, dict(a.outcomes), a.quality_checked, a.quality_passed) == (
        b.probes,
        dict(b.outcomes),
        b.quality_checked,
        b.quality_passed,
    )
    assert (a.tokens_per_s_n, a.first_ts, a.last_ts, a.last_outcome) == (
        b.tokens_per_s_n,
        b.first_ts,
        b.last_ts,
        b.last_outcome,
    )
    # Sums of floats: with three regions the database adds them in its own order.
    assert a.cost_usd == pytest.approx(b.cost_usd, rel=1e-12, abs=1e-15)
    assert a.tokens_per_s_sum == pytest.approx(b.tokens_per_s_sum, rel=1e-12)
    for name in ("ttft_ms", "latency_ms", "tokens_per_s"):
        _same_sketch(getattr(a, name), getattr(b, name))


@pytest.mark.parametrize("regions", [None, ["us-east", "ap-south"]])
def test_the_bulk_read_gives_the_figures_of_the_former_path(
    seeded: Store, regions: list[str] | None
) -> None:
    daily, by_region = Rollups(seeded).daily_and_by_region(SINCE, UNTIL, None, regions)
    old_daily, old_by_region = FormerRollups(seeded).daily_and_by_region(
        SINCE, UNTIL, None, regions
    )
    assert list(daily) == list(old_daily) and len(daily) >= 20
    assert sorted(by_region) == sorted(old_by_region) and len(by_region) >= 3
    for key, figures in daily.items():
        _same_figures(figures, old_daily[key])
    for rkey, figures in by_region.items():
        _same_figures(figures, old_by_region[rkey])
    # And each target over the range, as the report adds up its days.
    for target in TARGETS:
        mine, theirs = Figures(), Figures()
        for (t, _day), figures in daily.items():
            if t == target:
                mine.merge(figures)
                theirs.merge(old_daily[(t, _day)])
        _same_figures(mine, theirs)


@pytest.mark.parametrize("fmt", ["md", "json", "csv"])
def test_the_report_is_the_one_the_former_path_gave(seeded: Store, fmt: str) -> None:
    now = UNTIL + timedelta(hours=1)
    new = build_report(seeded, Config(), SINCE, UNTIL, now=now)
    old = build_report(seeded, Config(), SINCE, UNTIL, now=now, source=FormerRollups(seeded))
    assert len(new.regions) > 4 and len(new.days) > 30
    assert render(new, fmt) == render(old, fmt)
    regional = build_report(seeded, Config(), SINCE, UNTIL, now=now, regions=["eu-west"])
    former = build_report(
        seeded, Config(), SINCE, UNTIL, now=now, regions=["eu-west"], source=FormerRollups(seeded)
    )
    assert render(regional, fmt) == render(former, fmt)


def _stored_forms(rng: random.Random, n: int) -> list[str | None]:
    """Stored sketches as both databases write them: compact and sorted (`to_json`), PostgreSQL's
    jsonb text (spaces, keys in its own order), empty, NULL; with zeros and negative keys."""
    out: list[str | None] = []
    for _ in range(n):
        counts: dict[int, int] = {}
        for _ in range(rng.randint(0, 60)):
            key = rng.choice([0, rng.randint(-60, 700), rng.randint(300, 320)])
            counts[key] = counts.get(key, 0) + rng.randint(1, 40)
        if not counts:
            out.append(rng.choice([None, "{}", to_json({})]))
        elif rng.random() < 0.4:
            items = list(counts.items())
            rng.shuffle(items)
            out.append("{" + ", ".join(f'"{k}": {v}' for k, v in items) + "}")
        else:
            out.append(to_json(counts))
    return out


def test_sketches_read_as_arrays_merge_to_exactly_the_counted_ones() -> None:
    """`parse_many` + `Sketch.from_part`, merged as arrays, against `from_counts` merged as
    `Counter`s: the same counts, extremes and quantiles at every step (not only within 1 %)."""
    rng = random.Random(3)
    texts = _stored_forms(rng, 2000)
    counted, arrays = Sketch(), Sketch()
    groups: list[tuple[Sketch, Sketch]] = [(Sketch(), Sketch()) for _ in range(7)]
    for text, (part, zeros, count, in_order) in zip(texts, parse_many(texts), strict=True):
        low, high = (
            (rng.uniform(0, 3), rng.uniform(400, 9000)) if rng.random() < 0.8 else (None, None)
        )
        one, other = (
            Sketch.from_counts(from_json(text), low, high),
            Sketch.from_part(part, zeros, count, low, high),  # sorted when asked
        )
        keys = part[0].tolist()
        assert in_order and keys == sorted(set(keys))  # distinct, in order, jsonb's too
        _same_sketch(one, other)
        counted.merge(one)
        arrays.merge(other)
        a, b = rng.choice(groups)  # merged into a few sums, which merge on into the total
        a.merge(Sketch.from_counts(from_json(text), low, high))
        b.merge(Sketch.from_part(part, zeros, count, low, high, in_order))
        if rng.random() < 0.03:
            _same_sketch(counted, arrays)
        if rng.random() < 0.01:  # a raw value added to a sketch holding arrays
            value = rng.uniform(1, 5000)
            counted.add(value)
            arrays.add(value)
    _same_sketch(counted, arrays)
    total_a, total_b = Sketch(), Sketch()
    for a, b in groups:
        _same_sketch(a, b)
        total_a.merge(a)
        total_b.merge(b)
    total_b.merge(Sketch())  # an empty one changes nothing
    _same_sketch(total_a, total_b)


@pytest.mark.parametrize("q", QS)
def test_quantiles_asked_at_once_are_the_ones_asked_one_by_one(q: float) -> None:
    """`Sketch.quantiles` (the report's daily table) against `quantile` per sketch, exactly:
    sketches as arrays (one part in order, several parts, a key twice), as a `Counter`, mixed,
    of zeros only, empty, with and without extremes."""
    rng = random.Random(11)
    texts = _stored_forms(rng, 1500)
    parsed = parse_many(texts)

    def made(i: int) -> Sketch:
        (keys, counts), zeros, count, in_order = parsed[i]
        low, high = (
            (rng.uniform(0, 3), rng.uniform(400, 9000)) if rng.random() < 0.7 else (None, None)
        )
        kind = i % 6
        if kind == 0:  # as the stored text reads back in Python
            return Sketch.from_counts(from_json(texts[i]), low, high)
        sketch = Sketch.from_part((keys, counts), zeros, count, low, high, in_order)
        if kind == 2:  # several parts
            sketch.merge(Sketch.from_part((keys, counts), zeros, count, low, high, in_order))
        elif kind == 3:  # arrays and a Counter
            sketch.add(rng.uniform(1, 5000))
        elif kind == 4 and count:  # zeros only
            sketch = Sketch.from_counts({0: count}, low, high)
        return sketch

    def every() -> list[Sketch]:
        state = rng.getstate()
        out = [made(i) for i in range(len(texts))]
        rng.setstate(state)
        return out

    one_by_one, at_once = every(), every()
    expected = [s.quantile(q) for s in one_by_one]
    assert Sketch.quantiles(at_once, q) == expected
    assert Sketch.quantiles(at_once, q) == expected  # asked again, once added up
    assert any(v is None for v in expected) and any(v == 0.0 for v in expected)
    assert Sketch.quantiles([], q) == []


def test_a_stored_form_numpy_cannot_read_falls_back_to_json() -> None:
    texts = [to_json({311: 2, 0: 1}), json.dumps({"5": 1.0}), None]  # a float count
    parsed = parse_many(texts)
    assert [(p[0].tolist(), p[1].tolist(), z, n, o) for p, z, n, o in parsed] == [
        ([311], [2], 1, 3, True),
        ([5], [1], 0, 1, True),
        ([], [], 0, 0, True),
    ]


@pytest.mark.parametrize(
    "text",
    ['{"5": {"1": 2}}', '{"1": 2}{"3": 4}', '{"\u00e9": 1}', '{"x": 2}'],
    ids=["nested", "two objects", "not ascii", "a word"],
)
def test_a_stored_form_that_is_not_one_object_of_numbers_is_read_by_json(text: str) -> None:
    """Read as `json.loads` reads it, or refused as it refuses it: not numbers pulled out of
    it by the bulk parse."""
    texts = [to_json({311: 2}), text]
    try:
        expected = [from_json(t) for t in texts]
    except (ValueError, TypeError) as exc:
        with pytest.raises(type(exc)):
            parse_many(texts)
        return
    got = [dict(zip(p[0].tolist(), p[1].tolist(), strict=True)) for p, _, _, _ in parse_many(texts)]
    assert got == expected


def test_a_total_is_the_figures_merged_one_by_one() -> None:
    """`Figures.total` against `merge` in a loop, floats included: the same additions in the same
    order, and the newest outcome of equal times the last one's, as `merge` keeps it."""
    items = []
    for i, result in enumerate(history()[:600]):
        figures = Figures()
        figures.add(result)
        if i % 7 == 0:
            figures.merge(Figures())
        items.append(figures)
    one_by_one = Figures()
    for figures in items:
        one_by_one.merge(figures)
    total = Figures.total(items)
    _same_figures(total, one_by_one)
    assert (total.cost_usd, total.tokens_per_s_sum) == (
        one_by_one.cost_usd,
        one_by_one.tokens_per_s_sum,
    )


@pytest.mark.parametrize("by_region", [False, True])
def test_fetched_sketches_are_the_stored_ones_added_up(seeded: Store, by_region: bool) -> None:
    """`rollups.fetch` (the charts, the API) adds up the stored sketches in bulk: the same counts
    as adding each row's `from_json` in Python, per provider and day, from hour rows."""
    from sqlalchemy import select

    from monitor.store.rollup_table import rollups as table

    groups = {"openai": [t for t in TARGETS if t.startswith("openai/")], "rest": list(TARGETS[2:])}
    got = rollups.fetch(
        seeded, rollups.HOUR, SINCE, UNTIL, step=rollups.DAY, groups=groups, by_region=by_region
    )
    t = table.c
    lo, hi = int(SINCE.timestamp()), int(UNTIL.timestamp())  # as fetch bounds the buckets
    query = select(t.target, t.bucket, t.region, *(t[h] for h in rollups.HISTS)).where(
        t.grain == rollups.HOUR, t.bucket >= lo, t.bucket < hi
    )
    with seeded.session() as session:
        rows = session.execute(query).all()
    owner = {m: g for g, members in groups.items() for m in members}
    expected: dict[tuple[str, int, str], dict[str, dict[int, int]]] = {}
    for target, bucket, region, *texts in rows:
        key = (owner[target], bucket - bucket % 86400, region if by_region else "")
        mine = expected.setdefault(key, {h: {} for h in rollups.HISTS})
        for name, text in zip(rollups.HISTS, texts, strict=True):
            for k, n in from_json(text).items():
                mine[name][k] = mine[name].get(k, 0) + n
    assert len(got) > 10
    assert {(a.target, a.bucket, a.region): a.hists for a in got} == expected
