"""The sketch reads quantiles of known distributions within its accuracy; Wilson matches tables."""

from __future__ import annotations

import random

import pytest

from monitor.reports.stats import RELATIVE_ACCURACY, Sketch, wilson


def exact(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[round(q * (len(ordered) - 1))]


@pytest.mark.parametrize("q", [0.5, 0.95, 0.99])
@pytest.mark.parametrize(
    "distribution",
    [
        [float(v) for v in range(1, 1001)],
        [random.Random(7).lognormvariate(6, 0.8) for _ in range(20_000)],
        [random.Random(8).expovariate(1 / 300) for _ in range(20_000)],
    ],
    ids=["uniform 1..1000", "lognormal", "exponential"],
)
def test_a_sketch_quantile_is_within_its_relative_accuracy(
    distribution: list[float], q: float
) -> None:
    sketch = Sketch()
    sketch.extend(distribution)
    got = sketch.quantile(q)
    assert got == pytest.approx(exact(distribution, q), rel=RELATIVE_ACCURACY)


def test_merged_sketches_equal_one_sketch_of_everything() -> None:
    values = [random.Random(3).uniform(10, 5000) for _ in range(5000)]
    whole, left, right = Sketch(), Sketch(), Sketch()
    whole.extend(values)
    left.extend(values[:1234])
    right.extend(values[1234:])
    left.merge(right)
    assert left.buckets == whole.buckets and left.count == whole.count
    assert [left.quantile(q) for q in (0.5, 0.99)] == [whole.quantile(q) for q in (0.5, 0.99)]


def test_one_repeated_value_reads_back_exactly() -> None:
    sketch = Sketch()
    for _ in range(100):
        sketch.add(512.0)
    assert sketch.quantile(0.5) == 512.0 and sketch.quantile(0.99) == 512.0


def test_an_empty_sketch_has_no_quantile() -> None:
    assert Sketch().quantile(0.5) is None


@pytest.mark.parametrize(
    ("successes", "trials", "low", "high"),
    [
        # Reference values from the Wilson score formula at z = 1.96.
        (81, 263, 0.2553, 0.3662),
        (10, 10, 0.7225, 1.0),
        (0, 10, 0.0, 0.2775),
        (990, 1000, 0.9817, 0.9946),
    ],
)
def test_the_wilson_interval_matches_reference_values(
    successes: int, trials: int, low: float, high: float
) -> None:
    interval = wilson(successes, trials)
    assert interval is not None
    assert interval == (pytest.approx(low, abs=1e-4), pytest.approx(high, abs=1e-4))


def test_no_trials_have_no_interval() -> None:
    assert wilson(0, 0) is None


def test_a_sketch_read_back_from_its_stored_counts_is_the_same_sketch() -> None:
    rng = random.Random(7)
    sketch = Sketch()
    sketch.extend([0.0] * 3 + [rng.lognormvariate(6, 0.5) for _ in range(500)])
    back = Sketch.from_counts(sketch.counts(), sketch.low, sketch.high)
    assert (back.zeros, back.count, dict(back.buckets)) == (3, 503, dict(sketch.buckets))
    assert [back.quantile(q) for q in (0, 0.01, 0.5, 0.99, 1)] == [
        sketch.quantile(q) for q in (0, 0.01, 0.5, 0.99, 1)
    ]
