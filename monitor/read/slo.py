"""SLOs now: each target's figures over the rules' windows and over the SLO period, from the
rollups, the alerts they call for (`monitor.slo`), and which burns the alerts have open. The one
answer the alerts, the API, the public status and the status page give. Read only, through
`monitor.store`.

    found = burning(store, config, now)              # [(target, Page)] for every page due now
    slos = slo_now(store, config, now)               # target -> [ObjectiveNow]
    slos["openai/gpt-4o-mini"][0].compliance.attainment   # 0.9993, over the last 30 days
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from monitor.config import Config
from monitor.durations import format_duration
from monitor.figures import Figures
from monitor.read.now import covered
from monitor.result import format_ts
from monitor.slo import (
    PAGE,
    PERIOD_S,
    RULES,
    TICKET,
    WINDOWS,
    Compliance,
    Objective,
    Page,
    RuleBurn,
    compliance,
    objectives,
    pages,
    rule_burns,
)
from monitor.store import Store, rollups, slo_burns
from monitor.store.rollups import HOUR


def windows(
    store: Store, targets: list[str], now: datetime, seconds: Sequence[float] = WINDOWS
) -> dict[str, dict[float, Figures]]:
    """Per target, its figures over each window ending at `now` (seconds → figures)."""
    out: dict[str, dict[float, Figures]] = {t: {} for t in targets}
    if not targets:
        return out
    for window in seconds:
        since = now - timedelta(seconds=window)
        for target, agg in rollups.summary(store, since, now, targets=targets).items():
            out.setdefault(target, {})[window] = agg.figures()
    return out


def with_slo(config: Config, names: Sequence[str] | None = None) -> dict[str, list[Objective]]:
    """The targets (of `names`, default the configured ones) that have objectives, and theirs."""
    chosen = [t.name for t in config.targets()] if names is None else list(names)
    found = {name: objectives(config.slo_for(name)) for name in chosen}
    return {name: objs for name, objs in found.items() if objs}


def burning(
    store: Store, config: Config, now: datetime, severities: Sequence[str] = (PAGE,)
) -> list[tuple[str, Page]]:
    """Every (target, alert) of the configured SLOs that a rule of `severities` (`page`,
    `ticket`) calls for now: at most one of each severity per objective, the first of its
    rules that fires."""
    chosen = with_slo(config)
    rules = [r for r in RULES if r.severity in severities]
    needed = sorted({w for r in rules for w in (r.long_s, r.short_s)})
    found = windows(store, sorted(chosen), now, needed)
    out = []
    for target, objs in chosen.items():
        for objective in objs:
            for severity in severities:
                page = pages(
                    found.get(target, {}),
                    objective,
                    [r for r in rules if r.severity == severity],
                )
                if page is not None:
                    out.append((target, page))
    return out


@dataclass(slots=True)
class ObjectiveNow:
    """One objective of a target now: its compliance over the SLO period (the last `period_s`
    seconds; `covered_s`: seconds of it with data, when fewer), each rule's burn rates, whether
    a rule of each severity fires, and since when the alerts have had a page or a ticket open
    (`monitor.store.slo_burns`; None: none open)."""

    target: str
    objective: Objective
    period_s: float
    compliance: Compliance
    burns: list[RuleBurn]
    covered_s: float | None = None
    open_since: dict[str, datetime] = field(default_factory=dict)  # severity -> start

    @property
    def paging(self) -> bool:
        """A paging rule fires now."""
        return any(b.firing for b in self.burns if b.rule.severity == PAGE)

    @property
    def ticket(self) -> bool:
        """The ticket rule fires now."""
        return any(b.firing for b in self.burns if b.rule.severity == TICKET)

    def to_dict(self, *, public: bool = False) -> dict[str, Any]:
        """The JSON form. `public`: the objective and its compliance only (no burn rates, no
        alert state: those are the operators')."""
        c = self.compliance
        out: dict[str, Any] = {
            "objective": self.objective.label,
            "kind": self.objective.kind,
            "goal": self.objective.target,
            "limit_ms": self.objective.limit_ms,
            "period": format_duration(self.period_s),
            "covered": format_duration(self.covered_s) if self.covered_s is not None else None,
            "attainment": _round(c.attainment),
            "met": c.met,
            "budget_left": _round(c.budget_left),
        }
        if public:
            return out
        out |= {
            "bad": c.bad,
            "probes": c.total,
            "burn": [
                {
                    "severity": b.rule.severity,
                    "long": format_duration(b.rule.long_s),
                    "short": format_duration(b.rule.short_s),
                    "factor": b.rule.factor,
                    "long_burn": _round(b.long_burn, 4),
                    "short_burn": _round(b.short_burn, 4),
                    "firing": b.firing,
                }
                for b in self.burns
            ],
            "paging": self.paging,
            "paged_since": _ts(self.open_since.get(PAGE)),
            "ticket": self.ticket,
            "ticket_since": _ts(self.open_since.get(TICKET)),
        }
        return out


def slo_now(
    store: Store, config: Config, now: datetime, names: Sequence[str] | None = None
) -> dict[str, list[ObjectiveNow]]:
    """Every target (of `names`, default the configured ones) with an SLO: each objective's
    compliance over the last `PERIOD_S`, its burn rates on every rule and the burns the alerts
    have open. Targets without an SLO are left out."""
    chosen = with_slo(config, names)
    if not chosen:
        return {}
    targets = sorted(chosen)
    found = windows(store, targets, now, [*WINDOWS, PERIOD_S])
    first = rollups.first_seen(store, now - timedelta(seconds=PERIOD_S + HOUR), targets)
    opened = slo_burns.open_burns(store, targets)
    out: dict[str, list[ObjectiveNow]] = {}
    for target, objs in chosen.items():
        figures = found.get(target, {})
        out[target] = [
            ObjectiveNow(
                target=target,
                objective=objective,
                period_s=PERIOD_S,
                compliance=compliance(target, figures.get(PERIOD_S, Figures()), objective),
                burns=rule_burns(figures, objective),
                covered_s=covered(first.get(target), now, PERIOD_S),
                open_since={
                    severity: row.started_at
                    for (t, kind, severity), row in opened.items()
                    if t == target and kind == objective.kind
                },
            )
            for objective in objs
        ]
    return out


def _round(value: float | None, places: int = 6) -> float | None:
    return None if value is None else round(value, places)


def _ts(value: datetime | None) -> str | None:
    return format_ts(value) if value is not None else None
