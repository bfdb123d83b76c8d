"""Log-probabilities as a model would give them, for OpenAI's `logprobs` / `top_logprobs`.

    entries = token_logprobs(pieces, k=5, model="gpt-4o-mini", prompt=..., weights=None,
                             noise=0.0, rng=rng)

Each answered token is the most likely one; its alternatives and their logits are fixed by the
(model, prompt, position), so the same model asked the same thing gives the same distribution
(a deterministic server, like llama.cpp's, when `noise` is 0; an API's run-to-run jitter with
`noise`, the sd in nats of a fresh perturbation per request). `weights` names another set of
weights behind the same model name (a re-quantisation, a fine-tune, a swap): every logit moves by
a fixed amount drawn from the name (sd `WEIGHTS_SHIFT` nats), which is what the drift test must
find. The entries have OpenAI's shape: `{token, logprob, bytes, top_logprobs: [{token, logprob,
bytes}, …]}`.
"""

from __future__ import annotations

import math
import random
import zlib
from typing import Any

WEIGHTS_SHIFT = 0.3
REST = -1.5  # the logit of everything beyond the listed tokens, so probabilities sum below 1
_VOCAB = (
    " the",
    " a",
    "The",
    " I",
    "I",
    " It",
    "It",
    " Yes",
    "Yes",
    " No",
    "No",
    " is",
    " of",
    ",",
    ".",
    " and",
    " to",
    " in",
    "A",
    " answer",
    " The",
    "Sure",
    " Here",
    "**",
    "\n",
    " 1",
    "1",
    " Paris",
    "Paris",
    " one",
    " it",
    " that",
)


def token_logprobs(
    pieces: list[str],
    k: int,
    *,
    model: str,
    prompt: str,
    weights: str | None,
    noise: float,
    rng: random.Random,
) -> list[dict[str, Any]]:
    """One `logprobs.content` entry per piece of the answer, with its `k` top alternatives."""
    return [
        _entry(piece, i, k, model, prompt, weights, noise, rng) for i, piece in enumerate(pieces)
    ]


def _entry(
    token: str,
    index: int,
    k: int,
    model: str,
    prompt: str,
    weights: str | None,
    noise: float,
    rng: random.Random,
) -> dict[str, Any]:
    fixed = random.Random(zlib.crc32(f"{model}\x00{prompt}\x00{index}".encode()))
    others = [v for v in _VOCAB if v != token]
    alternatives = fixed.sample(others, min(len(others), max(k, 1) + 3))
    logits = {token: 0.0, **{a: -fixed.uniform(1.0, 9.0) for a in alternatives}}
    if weights:
        moved = random.Random(zlib.crc32(f"{weights}\x00{model}\x00{prompt}\x00{index}".encode()))
        logits = {t: v + moved.gauss(0.0, WEIGHTS_SHIFT) for t, v in logits.items()}
    if noise:
        logits = {t: v + rng.gauss(0.0, noise) for t, v in logits.items()}
    # The answered token stays the most likely (greedy decoding picked it).
    top_other = max(v for t, v in logits.items() if t != token)
    logits[token] = max(logits[token], top_other + 0.05)
    norm = math.log(sum(math.exp(v) for v in logits.values()) + math.exp(REST))
    ranked = sorted(logits.items(), key=lambda tv: -tv[1])[:k]
    return {
        "token": token,
        "logprob": logits[token] - norm,
        "bytes": list(token.encode()),
        "top_logprobs": [
            {"token": t, "logprob": v - norm, "bytes": list(t.encode())} for t, v in ranked
        ],
    }
