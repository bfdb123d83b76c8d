"""Service-level objectives: how much of an error budget a target has burnt, over any window
of its figures (`monitor.figures.Figures`, read from the rollups). Pure.

    burn = burn_rate(figures, objective)          # 1.0: spending the budget exactly on time
    page = pages(windows, objective)              # the SRE workbook's multi-window rule
    ticket = pages(windows, objective, TICKET_RULES)   # its slow-burn ticket rule

An **objective** is `availability` (the share of counted probes that did not fail; the budget
is 1 − it) or `ttft_p95` (95 % of answered probes with their first token within the limit; the
budget is 5 % of answered probes slower). The **burn rate** over a window is the share of bad
probes over the budget: at 1.0 the budget lasts exactly the SLO's period, at 14.4 a 30-day
budget's 2 % is gone in an hour. A **page** needs both windows of a pair over its factor (the
long one says the burn is significant, the short one that it is still going on): 1 h and 5 min
at 14.4×, or 6 h and 30 min at 6× (Beyer et al., *The Site Reliability Workbook*, ch. 5). The
workbook's **ticket** rule, 3 days and 6 h at 1× (the budget would be gone by the end of the
period), is a slower, lower severity: it opens a ticket rather than paging. The factors are the
workbook's for a 30-day period (`PERIOD_S`), over which attainment is shown now.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from monitor.config.schema import SloConfig
from monitor.figures import Figures
from monitor.sketch import value_of

TTFT_QUANTILE = 0.95
PERIOD_S = 30 * 86400.0  # the SLO period the factors below are the workbook's for
PAGE, TICKET = "page", "ticket"


@dataclass(frozen=True, slots=True)
class Rule:
    """A multi-window rule: both windows (seconds) burning at or over `factor` call for a
    `severity` alert (`page` or `ticket`)."""

    severity: str
    long_s: float
    short_s: float
    factor: float


# The workbook's two paging pairs and its ticket pair.
PAGE_RULES: tuple[Rule, ...] = (
    Rule(PAGE, 3600.0, 300.0, 14.4),
    Rule(PAGE, 6 * 3600.0, 1800.0, 6.0),
)
TICKET_RULES: tuple[Rule, ...] = (Rule(TICKET, 3 * 86400.0, 6 * 3600.0, 1.0),)
RULES = PAGE_RULES + TICKET_RULES
WINDOWS = sorted({w for rule in RULES for w in (rule.long_s, rule.short_s)})


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
    """A burn fast enough to alert someone: the pair of windows that said so and their rates.
    `severity` is the rule's: `page` (someone is woken) or `ticket` (a slow burn, for the
    working day)."""

    objective: Objective
    long_s: float
    short_s: float
    factor: float
    long_burn: float
    short_burn: float
    severity: str = PAGE


@dataclass(frozen=True, slots=True)
class RuleBurn:
    """One rule's windows now: each window's burn rate (None: no probe counts in it)."""

    rule: Rule
    long_burn: float | None
    short_burn: float | None

    @property
    def firing(self) -> bool:
        return (
            self.long_burn is not None
            and self.short_burn is not None
            and self.long_burn >= self.rule.factor
            and self.short_burn >= self.rule.factor
        )


def rule_burns(
    windows: Mapping[float, Figures], objective: Objective, rules: Sequence[Rule] = RULES
) -> list[RuleBurn]:
    """Each rule's burn rates, given the figures of each window (seconds → figures of the last
    that many seconds; a window missing reads as no probe)."""
    out = []
    for rule in rules:
        long_fig, short_fig = windows.get(rule.long_s), windows.get(rule.short_s)
        out.append(
            RuleBurn(
                rule,
                None if long_fig is None else burn_rate(long_fig, objective),
                None if short_fig is None else burn_rate(short_fig, objective),
            )
        )
    return out


def pages(
    windows: Mapping[float, Figures], objective: Objective, rules: Sequence[Rule] = PAGE_RULES
) -> Page | None:
    """The first of `rules` (default: the paging ones) both of whose windows burn at or over
    its factor, given the figures of each window; None if none."""
    for burn in rule_burns(windows, objective, rules):
        if burn.firing:
            assert burn.long_burn is not None and burn.short_burn is not None
            rule = burn.rule
            return Page(
                objective,
                rule.long_s,
                rule.short_s,
                rule.factor,
                burn.long_burn,
                burn.short_burn,
                rule.severity,
            )
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
