"""Model-identity drift: has the distribution behind a canary's answers changed?

Two two-sample tests, one statistic. Each probe of a drift canary becomes a feature vector:

- **log-probabilities** (where the protocol gives them: `ProbeResult.top_logprobs`, the first
  output token's top-K): one coordinate per token seen in either window, the token's logprob, or,
  for a token a probe did not list, the lowest logprob that probe did list (the token's own is at
  most that). This is the single-token "logprob tracking" probe of Chauvin et al. (ICLR 2026).
- **answer texts** (elsewhere): the answer's character 3-gram counts, scaled to unit length; the
  statistic below is then the squared maximum mean discrepancy (MMD², biased form) with the cosine
  kernel on 3-grams, the model equality test of Gao et al. (ICLR 2025) with a simple kernel.

The statistic is the squared distance between the mean vectors of the reference window and the
current one; its p-value comes from permuting the window labels (exact when the windows are small
enough to enumerate every split, else Monte Carlo with Besag & Clifford's sequential stopping:
draws stop after `HITS` permutations at least as extreme, so a test far from significance costs a
few hundred draws and one near it up to `4 / alpha`). Under "same distribution" the two windows
are exchangeable and the p-value is valid at any sample size. A small p-value says only that the
distribution changed, never why (a new model, a re-quantisation, a new system prompt, a new
sampler or a new serving stack all look alike).

Pure: lists in, numbers out; numpy for the permutations; no clock, no I/O.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import combinations
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

NGRAM = 3
HITS = 10  # Besag–Clifford: stop drawing after this many permutations at least as extreme
BATCH = 4096  # permutations drawn at once, at most
FIRST_BATCH = 64
EXACT_MAX = 20_000  # enumerate every split when there are at most this many
MAX_TOKENS = 64  # coordinates of a logprob vector (the most frequent tokens of both windows)
EVIDENCE = 3  # tokens (or answers) named in the evidence

Pairs = Sequence[Sequence[Any]]  # [[token, logprob], …]


@dataclass(frozen=True, slots=True)
class DriftTest:
    """One test of a current window against the reference: `p_value`, the statistic, how many
    label permutations gave the p-value (`exact` when every split was counted) and the evidence
    (which tokens moved, or which answers became more or less common)."""

    p_value: float
    statistic: float
    permutations: int
    exact: bool
    evidence: list[dict[str, Any]] = field(default_factory=list)


def logprob_test(
    reference: Sequence[Pairs], current: Sequence[Pairs], alpha: float, seed: int = 0
) -> DriftTest:
    """Whether the first-token logprob vectors of `current` come from the distribution of
    `reference`'s (see the module docstring). `alpha` sets how far the Monte Carlo goes."""
    import numpy as np  # here, not at import: a monitor without drift canaries never loads it

    tokens = _vocabulary([*reference, *current])
    x = np.array([_logprob_vector(p, tokens) for p in [*reference, *current]], dtype=float)
    test = permutation_test(x, len(reference), alpha, seed)
    mean_ref, mean_cur = x[: len(reference)].mean(axis=0), x[len(reference) :].mean(axis=0)
    moved = np.argsort(-np.abs(mean_cur - mean_ref))[:EVIDENCE]
    evidence = [
        {
            "token": tokens[i],
            "reference_logprob": round(float(mean_ref[i]), 3),
            "current_logprob": round(float(mean_cur[i]), 3),
        }
        for i in moved
        if abs(mean_cur[i] - mean_ref[i]) > 0
    ]
    return DriftTest(test.p_value, test.statistic, test.permutations, test.exact, evidence)


def answer_test(
    reference: Sequence[str], current: Sequence[str], alpha: float, seed: int = 0
) -> DriftTest:
    """Whether the answer texts of `current` come from the distribution of `reference`'s:
    MMD² with the cosine kernel on character 3-grams, permutation p-value."""
    import numpy as np

    grams = _vocabulary_grams([*reference, *current])
    x = np.array([_gram_vector(a, grams) for a in [*reference, *current]], dtype=float)
    test = permutation_test(x, len(reference), alpha, seed)
    before, after = Counter(reference), Counter(current)
    shares = {
        a: after[a] / len(current) - before[a] / len(reference) for a in set(before) | set(after)
    }
    moved = sorted(shares, key=lambda a: (-abs(shares[a]), a))[:EVIDENCE]
    evidence = [
        {
            "answer": a[:40],
            "reference_share": round(before[a] / len(reference), 3),
            "current_share": round(after[a] / len(current), 3),
        }
        for a in moved
        if shares[a] != 0
    ]
    return DriftTest(test.p_value, test.statistic, test.permutations, test.exact, evidence)


def permutation_test(x: np.ndarray, n_ref: int, alpha: float, seed: int = 0) -> DriftTest:
    """The p-value of ‖mean(x[:n_ref]) − mean(x[n_ref:])‖² under exchangeable labels.

    Every split is counted when there are at most `EXACT_MAX`; otherwise label permutations
    are drawn (seeded: the same data give the same p-value) until `HITS` are at least as extreme
    (p = HITS / draws) or `ceil(4 / alpha)` have been drawn (p = (hits + 1) / (draws + 1))."""
    import numpy as np

    n = len(x)
    n_cur = n - n_ref
    if n_ref < 1 or n_cur < 1:
        raise ValueError("both windows need at least one sample")
    observed = _statistic(x, np.arange(n) < n_ref, n_ref, n_cur)[0]
    tolerance = 1e-9 * max(1.0, observed)
    splits = math.comb(n, n_ref)
    if splits <= EXACT_MAX:
        labels = np.zeros((splits, n), dtype=bool)
        for row, chosen in enumerate(combinations(range(n), n_ref)):
            labels[row, list(chosen)] = True
        stats = np.concatenate(
            [_statistic(x, labels[i : i + BATCH], n_ref, n_cur) for i in range(0, splits, BATCH)]
        )
        hits = int(np.count_nonzero(stats >= observed - tolerance))
        return DriftTest(hits / splits, float(observed), splits, True)
    rng = np.random.default_rng(seed)
    limit = math.ceil(4 / alpha)
    base = np.arange(n) < n_ref
    drawn = hits = 0
    batch = FIRST_BATCH  # most tests are far from significance and stop in the first batch
    while drawn < limit:
        size = min(batch, limit - drawn)
        batch = min(2 * batch, BATCH)
        labels = rng.permuted(np.tile(base, (size, 1)), axis=1)
        stats = _statistic(x, labels, n_ref, n_cur)
        exceed = np.flatnonzero(stats >= observed - tolerance)
        if hits + len(exceed) >= HITS:
            drawn += int(exceed[HITS - hits - 1]) + 1
            return DriftTest(HITS / drawn, float(observed), drawn, False)
        hits += len(exceed)
        drawn += size
    return DriftTest((hits + 1) / (drawn + 1), float(observed), drawn, False)


def _statistic(x: np.ndarray, labels: np.ndarray, n_ref: int, n_cur: int) -> np.ndarray:
    """‖mean of the rows labelled True − mean of the others‖², one value per row of labels."""
    import numpy as np

    labels = np.atleast_2d(labels).astype(float)
    total = x.sum(axis=0)
    ref_sum = labels @ x
    diff = ref_sum / n_ref - (total - ref_sum) / n_cur
    out: np.ndarray = np.einsum("ij,ij->i", diff, diff)
    return out


def _vocabulary(samples: Sequence[Pairs]) -> list[str]:
    counts: Counter[str] = Counter()
    for pairs in samples:
        counts.update(str(token) for token, _ in pairs)
    return [t for t, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:MAX_TOKENS]]


def _logprob_vector(pairs: Pairs, tokens: list[str]) -> list[float]:
    given = {str(token): float(logprob) for token, logprob in pairs}
    floor = min(given.values(), default=0.0)
    return [given.get(t, floor) for t in tokens]


def _grams(text: str) -> Counter[str]:
    padded = f" {text.strip().casefold()} "
    return Counter(padded[i : i + NGRAM] for i in range(max(1, len(padded) - NGRAM + 1)))


def _vocabulary_grams(texts: Sequence[str]) -> list[str]:
    seen: set[str] = set()
    for text in texts:
        seen.update(_grams(text))
    return sorted(seen)


def _gram_vector(text: str, grams: list[str]) -> list[float]:
    counts = _grams(text)
    norm = math.sqrt(sum(c * c for c in counts.values())) or 1.0
    return [counts.get(g, 0) / norm for g in grams]
