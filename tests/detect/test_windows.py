"""Detection's windows against plain reference models: the last `size` values (or events) kept
in a list, sorted or counted from scratch at every step. The windows are rings of two-byte steps
and of bits (tests/detect/test_memory.py bounds their size); these tests hold their answers to
the obvious ones, through filling, wrapping and clearing."""

from __future__ import annotations

import math
from statistics import NormalDist

from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.detect.stats import STEP, RateWindow, RollingWindow, quantize

_NORMAL = NormalDist()

# log-space timings and residuals, with repeats (ties) and the odd value past the two-byte range
values = st.one_of(
    st.floats(min_value=-20, max_value=20, allow_nan=False),
    st.sampled_from([0.0, 4.605, 4.6052, -1.5, 16.5, -17.0]),
)


def _quantile(kept: list[int], q: float) -> float:
    ordered = sorted(kept)
    pos = q * (len(ordered) - 1)
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return (ordered[low] + (ordered[high] - ordered[low]) * (pos - low)) / STEP


def _score(kept: list[int], value: float) -> float:
    q = quantize(value)
    below = sum(1 for v in kept if v < q)
    ties = sum(1 for v in kept if v == q)
    return _NORMAL.inv_cdf((below + ties / 2 + 0.5) / (len(kept) + 1))


@settings(max_examples=200, deadline=None)
@given(
    size=st.integers(min_value=1, max_value=12),
    steps=st.lists(st.one_of(values, st.just("clear")), max_size=60),
    probe=values,
)
def test_a_rolling_window_answers_as_its_last_values_would(
    size: int, steps: list[float | str], probe: float
) -> None:
    window = RollingWindow(size)
    kept: list[int] = []
    for step in steps:
        if step == "clear":
            window.clear()
            kept = []
        else:
            assert isinstance(step, float)
            window.add(step)
            kept = [*kept, quantize(step)][-size:]
        assert len(window) == len(kept)
        assert window.values() == [v / STEP for v in kept]
        assert window.beyond(probe) == (not kept or quantize(probe) > max(kept))
        if kept:
            for q in (0.0, 0.25, 0.5, 0.75, 1.0):
                assert math.isclose(window.quantile(q), _quantile(kept, q), abs_tol=1e-12)
            assert math.isclose(window.score(probe), _score(kept, probe), abs_tol=1e-9)


def test_values_are_kept_to_a_step_and_clamped_to_two_bytes() -> None:
    ms = math.exp(9431 / STEP)  # 100.0 ms, in the middle of a step
    window = RollingWindow(3)
    for value in (math.log(ms), math.log(ms * 1.0001), 99.0):
        window.add(value)
    low, close, high = window.values()
    assert low == 9431 / STEP
    assert low == close  # 0.01 ms apart at 100 ms: 1/5 of a step, a tie
    assert high == 32767 / STEP  # clamped, not wrapped round to a negative
    assert window.score(math.log(ms)) == window.score(math.log(ms * 1.0001))
    alone = RollingWindow(3)
    alone.add(math.log(ms))
    assert not alone.beyond(math.log(ms * 1.0001))  # a tie with the top is not beyond it
    assert alone.beyond(math.log(ms * 1.001))  # two steps up


@settings(max_examples=200, deadline=None)
@given(
    size=st.integers(min_value=1, max_value=40),
    steps=st.lists(st.one_of(st.booleans(), st.just("clear")), max_size=150),
)
def test_a_rate_window_counts_its_last_observations(size: int, steps: list[bool | str]) -> None:
    window = RateWindow(size, prior=0.02, weight=50)
    kept: list[bool] = []
    for step in steps:
        if step == "clear":
            window.clear()
            kept = []
        else:
            window.add(bool(step))
            kept = [*kept, bool(step)][-size:]
        assert len(window) == len(kept)
        events = sum(kept)
        assert window.raw_rate == (events / len(kept) if kept else None)
        assert math.isclose(window.rate, (events + 0.02 * 50) / (len(kept) + 50))
