"""Service-level objectives: how much of an error budget a target has burnt, over any window
of its figures (`monitor.figures.Figures`, read from the rollups). Pure.

    burn = burn_rate(figures, objective)          # 1.0: spending the budget exactly on time
    page = pages(windows, objective)              # the SRE workbook's multi-window rule

An **objective** is `availability` (the share of counted probes that did not fail; the budget
is 1 − it) or `ttft_p95` (95 % of answered probes with their first token within the limit; the
budget is 5 % of answered probes slower). The **burn rate** over a window is the share of bad
probes over the budget: at 1.0 the budget lasts exactly the SLO's period, at 14.4 a 30-day
budget's 2 % is gone in an hour. A **page** needs both windows of a pair over its factor (the
long one says the burn is significant, the short one that it is still going on): 1 h and 5 min
at 14.4×, or 6 h and 30 min at 6× (Beyer et al., *The Site Reliability Workbook*, ch. 5).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from monitor.config.schema import SloConfig
from monitor.figures import Figures
from monitor.sketch import value_of

TTFT_QUANTILE = 0.95
# (long window, short window, factor), seconds: the workbook's two paging pairs.
PAGE_RULES: tuple[tuple[float, float, float], ...] = (
    (3600.0, 300.0, 14.4),
    (6 * 3600.0, 1800.0, 6.0),
)
WINDOWS = sorted({w for rule in PAGE_RULES for w in rule[:2]})


@dataclass(frozen=True, slots=True)
class Objective:
    """One objective of an SLO: `kind` `availability` or `ttft_p95`, its `target` share of good
    probes, and for TTFT the `limit_ms`."""

    kind: str
    target: float
    limit_ms: float | None = None

    @property
    def budget(self) -> float:
        return 1.0 - self.target

    @property
    def label(self) -> str:
        if self.kind == "availability":
            return f"availability {self.target * 100:g}%"
        return f"TTFT p95 ≤ {self.limit_ms:g} ms"


def objectives(slo: SloConfig | None) -> list[Objective]:
    """The objectives an `slo:` sets (none without one)."""
    if slo is None:
        return []
    out = []
    if slo.availability is not None:
        out.append(Objective("availability", slo.availability))
    if slo.ttft_p95 is not None:
        out.append(Objective("ttft_p95", TTFT_QUANTILE, slo.ttft_p95 * 1000))
    return out


def events(figures: Figures, objective: Objective) -> tuple[int, int]:
    """(bad, all) probes of `figures` for `objective`: failures among counted probes, or
    answered probes whose TTFT was over the limit (read from the TTFT sketch: within 1 %)."""
    if objective.kind == "availability":
        return figures.failures, figures.counted
    sketch = figures.ttft_ms
    assert objective.limit_ms is not None
    slow = sum(n for index, n in sketch.buckets.items() if value_of(index) > objective.limit_ms)
    return slow, sketch.count


def burn_rate(figures: Figures, objective: Objective) -> float | None:
    """The share of bad probes over the budget; None when no probe counts."""
    bad, total = events(figures, objective)
    if total == 0:
        return None
    return (bad / total) / objective.budget


@dataclass(frozen=True, slots=True)
class Page:
    """A burn fast enough to page someone: the pair of windows that said so and their rates."""

    objective: Objective
    long_s: float
    short_s: float
    factor: float
    long_burn: float
    short_burn: float


def pages(windows: Mapping[float, Figures], objective: Objective) -> Page | None:
    """The first paging rule both of whose windows burn at or over its factor, given the
    figures of each window (seconds → figures of the last that many seconds); None if none."""
    for long_s, short_s, factor in PAGE_RULES:
        long_fig, short_fig = windows.get(long_s), windows.get(short_s)
        if long_fig is None or short_fig is None:
            continue
        long_burn = burn_rate(long_fig, objective)
        short_burn = burn_rate(short_fig, objective)
        if long_burn is None or short_burn is None:
            continue
        if long_burn >= factor and short_burn >= factor:
            return Page(objective, long_s, short_s, factor, long_burn, short_burn)
    return None


@dataclass(frozen=True, slots=True)
class Compliance:
    """An objective over a report's range: the share of good probes (`attainment`), whether it
    met the target, and the share of the range's error budget left (negative: overspent)."""

    target: str
    objective: str
    goal: float
    attainment: float | None
    met: bool | None
    budget_left: float | None
    bad: int
    total: int


def compliance(target: str, figures: Figures, objective: Objective) -> Compliance:
    bad, total = events(figures, objective)
    if total == 0:
        return Compliance(target, objective.label, objective.target, None, None, None, 0, 0)
    share = bad / total
    return Compliance(
        target,
        objective.label,
        objective.target,
        1.0 - share,
        1.0 - share >= objective.target,
        1.0 - share / objective.budget,
        bad,
        total,
    )
