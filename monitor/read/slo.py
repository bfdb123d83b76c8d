"""Burn rates now: each target's figures over the paging windows, from the rollups, and the
pages they call for (`monitor.slo`). Read only, through `monitor.store.rollups`.

    found = burning(store, config, now)     # [(target, Page)] for every objective paging now
"""

from __future__ import annotations

from datetime import datetime, timedelta

from monitor.config import Config
from monitor.figures import Figures
from monitor.slo import WINDOWS, Page, objectives, pages
from monitor.store import Store, rollups


def windows(store: Store, targets: list[str], now: datetime) -> dict[str, dict[float, Figures]]:
    """Per target, its figures over each paging window ending at `now` (seconds → figures)."""
    out: dict[str, dict[float, Figures]] = {t: {} for t in targets}
    if not targets:
        return out
    for seconds in WINDOWS:
        since = now - timedelta(seconds=seconds)
        for target, agg in rollups.summary(store, since, now, targets=targets).items():
            out.setdefault(target, {})[seconds] = agg.figures()
    return out


def burning(store: Store, config: Config, now: datetime) -> list[tuple[str, Page]]:
    """Every (target, page) of the configured SLOs whose burn rate pages now."""
    with_slo = {t.name: objectives(config.slo_for(t.name)) for t in config.targets()}
    with_slo = {t: o for t, o in with_slo.items() if o}
    found = windows(store, sorted(with_slo), now)
    out = []
    for target, objs in with_slo.items():
        for objective in objs:
            page = pages(found.get(target, {}), objective)
            if page is not None:
                out.append((target, page))
    return out
