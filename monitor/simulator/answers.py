"""What the simulated model says: the right answer, a wrong one, or the scenario's literal text.

The right answer comes from the scenario's `answers` (regex → answer, first match wins), then from
`monitor.canaries.solve.solve(prompt)` (which knows every built-in canary), else "OK".
"""

from __future__ import annotations

import importlib
import random
import re
from collections.abc import Callable

from monitor.simulator.scenario import Behaviour, Scenario

_Solver = Callable[[str], "str | None"]
_solver: _Solver | None = None
_solver_loaded = False
_TOKEN = re.compile(r"\s*\S{1,6}")
_FLIPS = {"yes": "no", "no": "yes", "true": "false", "false": "true"}


def _solve(prompt: str) -> str | None:
    global _solver, _solver_loaded
    if not _solver_loaded:
        # Imported lazily: the canaries package may be absent, and must not be a hard dependency.
        try:
            module = importlib.import_module("monitor.canaries.solve")
            _solver = getattr(module, "solve", None)
        except ImportError:
            _solver = None
        _solver_loaded = True
    if _solver is None:
        return None
    try:
        return _solver(prompt)
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
