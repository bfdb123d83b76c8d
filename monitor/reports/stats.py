"""Small statistics the report needs: the mergeable quantile sketch (`monitor.sketch`, shared
with the rollups) and the Wilson interval."""

from __future__ import annotations

import math

from monitor.sketch import RELATIVE_ACCURACY, Sketch

__all__ = ["RELATIVE_ACCURACY", "Sketch", "wilson"]


def wilson(successes: int, trials: int, z: float = 1.96) -> tuple[float, float] | None:
    """The Wilson score interval for a proportion (95 % for z = 1.96), or None with no trials.

    Unlike `p ± z·sqrt(p(1-p)/n)` it stays inside [0, 1] and is honest for small samples and
    proportions near 0 or 1, which is where canary pass rates live.
    """
    if trials <= 0:
        return None
    p = successes / trials
    z2 = z * z
    denom = 1 + z2 / trials
    centre = (p + z2 / (2 * trials)) / denom
    half = z * math.sqrt(p * (1 - p) / trials + z2 / (4 * trials * trials)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)
