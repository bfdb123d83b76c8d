"""The two-sample tests behind model-identity drift (monitor.detect.drift): valid p-values under
"same distribution", small ones when it changed, and evidence that names what moved."""

from __future__ import annotations

import random

import numpy as np
import pytest

from monitor.detect.drift import EXACT_MAX, answer_test, logprob_test, permutation_test
from tests.factories import top_logprobs


def test_a_shifted_logprob_window_gets_a_p_value_below_a_bonferroni_level() -> None:
    rng = random.Random(1)
    reference = [top_logprobs(rng) for _ in range(30)]
    current = [top_logprobs(rng, shift=1.0) for _ in range(20)]
    test = logprob_test(reference, current, alpha=1.5e-4)
    assert test.p_value <= 1.5e-4
    assert not test.exact
    moved = {e["token"] for e in test.evidence}
    assert moved <= {" Paris", "paris", "It", "The"} and moved, test.evidence


def test_p_values_of_the_same_distribution_are_roughly_uniform() -> None:
    rng = random.Random(2)
    found = []
    for seed in range(60):
        reference = [top_logprobs(rng) for _ in range(30)]
        current = [top_logprobs(rng) for _ in range(20)]
        found.append(logprob_test(reference, current, alpha=1e-3, seed=seed).p_value)
    # Valid: a level-0.1 test rejects about 10 % of the time, not more (binomial: 60 draws).
    assert sum(p <= 0.1 for p in found) <= 14, sorted(found)[:15]
    assert 0.3 < float(np.median(found)) < 0.7, sorted(found)


def test_identical_answers_in_both_windows_are_no_change() -> None:
    assert answer_test(["391"] * 30, ["391"] * 20, alpha=1e-4).p_value == 1.0
    same = [[["Paris", -0.0123], [" Paris", -4.5]]] * 6
    assert logprob_test(same, same, alpha=0.01).p_value == 1.0


def test_a_deterministic_server_whose_logprobs_move_is_found_by_the_exact_test() -> None:
    reference = [[["Paris", -0.10], [" Paris", -2.4]]] * 5
    current = [[["Paris", -0.12], [" Paris", -2.1]]] * 5
    test = logprob_test(reference, current, alpha=0.01)
    # 252 splits of 10 answers into 5 and 5; only the true split and its mirror are as extreme.
    assert test.exact and test.permutations == 252
    assert test.p_value == pytest.approx(2 / 252)
    assert test.evidence[0]["token"] == " Paris"


def test_answers_that_changed_their_mix_are_found_and_named() -> None:
    reference = ["Canberra"] * 28 + ["Sydney"] * 2
    current = ["Sydney"] * 14 + ["Canberra"] * 6
    test = answer_test(reference, current, alpha=1e-3)
    assert test.p_value <= 1e-3
    assert test.evidence[0]["answer"] in ("Sydney", "Canberra")
    assert {e["answer"] for e in test.evidence} == {"Sydney", "Canberra"}


def test_the_monte_carlo_p_value_is_repeatable_for_the_same_seed() -> None:
    rng = random.Random(3)
    reference = [top_logprobs(rng) for _ in range(30)]
    current = [top_logprobs(rng, shift=0.3) for _ in range(20)]
    first = logprob_test(reference, current, alpha=1e-3, seed=5)
    assert logprob_test(reference, current, alpha=1e-3, seed=5) == first


def test_the_exact_test_counts_every_split_when_there_are_few() -> None:
    x = np.array([[0.0], [0.0], [1.0], [1.0]])
    test = permutation_test(x, 2, alpha=0.01)
    assert test.exact and test.permutations == 6 <= EXACT_MAX
    assert test.p_value == pytest.approx(2 / 6)


def test_an_empty_window_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one sample"):
        permutation_test(np.zeros((3, 2)), 3, alpha=0.01)
