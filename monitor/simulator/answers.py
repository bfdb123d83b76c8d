"""What the simulated model says: the right answer, a wrong one, or the scenario's literal text.

The right answer comes from the scenario's `answers` (regex → answer, first match wins), then from
`monitor.canaries.solve.solve(prompt)` (which knows every built-in canary), else "OK".
"""

from __future__ import annotations

import random
import re

from monitor.canaries.solve import solve
from monitor.simulator.scenario import Behaviour, Scenario

_TOKEN = re.compile(r"\s*\S{1,6}")
_FLIPS = {"yes": "no", "no": "yes", "true": "false", "false": "true"}


def _solve(prompt: str) -> str | None:
    try:
        return solve(prompt)
    except Exception:  # a solver bug must not take the simulator down; say "OK" instead
        return None


def correct_answer(scenario: Scenario, prompt: str) -> str:
    for pattern, answer in scenario.answers:
        if pattern.search(prompt):
            return answer
    solved = _solve(prompt)
    return solved if solved is not None else "OK"


def wrong_answer(right: str) -> str:
    """A plausible wrong answer: the number plus one, yes/no flipped, else something else."""
    stripped = right.strip().rstrip(".")
    flipped = _FLIPS.get(stripped.lower())
    if flipped is not None:
        return flipped.capitalize() if stripped[:1].isupper() else flipped
    try:
        return str(int(stripped) + 1)
    except ValueError:
        pass
    try:
        return repr(float(stripped) + 1.0)
    except ValueError:
        pass
    return "I am not sure."


def answer_for(scenario: Scenario, behaviour: Behaviour, prompt: str, rng: random.Random) -> str:
    if behaviour.answer not in ("correct", "wrong"):
        return behaviour.answer
    right = correct_answer(scenario, prompt)
    wrong = behaviour.answer == "wrong" or (
        behaviour.wrong_rate > 0 and rng.random() < behaviour.wrong_rate
    )
    return wrong_answer(right) if wrong else right


def tokens(text: str) -> list[str]:
    """`text` in token-sized pieces (a word or up to six characters, with its leading space)."""
    return _TOKEN.findall(text) or ([text] if text else [])
