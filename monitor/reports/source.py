"""Where the report's probe figures come from.

`probe_source(store)` gives per-target, per-day `Figures`s from the rollups (a 90-day report
reads a few hundred rows, and rollups outlive raw results). `RawResults` computes the same from raw
results streamed in batches (constant memory, one pass), with 1 % percentiles, for short ranges
or checks. Statuses and incidents come from `monitor.reports.statuses`.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import Protocol, TypeVar

from monitor.figures import Figures
from monitor.store import Store, results, rollups

DayKey = tuple[str, date]


@contextmanager
def paused_gc() -> Iterator[None]:
    """Python's cyclic garbage collector held off while a report builds its ~300,000 objects
    (none of them cycles): its full passes over the growing heap took 15-20 % of a 90-day
    report's time. The previous state comes back however the block ends."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


RegionKey = tuple[str, str]  # (target, region)


class ProbeSource(Protocol):
    """Per-target, per-day probe aggregates over `[since, until)` (of `regions`' probes only,
    when given), and per target and region over the whole range."""

    description: str
    precision: str  # how exact the percentiles are, for the report's definitions

    def daily(
        self,
        since: datetime,
        until: datetime,
        targets: Sequence[str] | None,
        regions: Sequence[str] | None = None,
    ) -> dict[DayKey, Figures]: ...

    def by_region(
        self,
        since: datetime,
        until: datetime,
        targets: Sequence[str] | None,
        regions: Sequence[str] | None = None,
    ) -> dict[RegionKey, Figures]: ...

    def daily_and_by_region(
        self,
        since: datetime,
        until: datetime,
        targets: Sequence[str] | None,
        regions: Sequence[str] | None = None,
    ) -> tuple[dict[DayKey, Figures], dict[RegionKey, Figures]]:
        """`daily` and `by_region` at once (what a report reads), from one read where it can."""
        ...


class RawResults:
    """Aggregates computed from raw probe results in one streamed pass."""

    description = "raw probe results"
    precision = "read from mergeable histograms accurate to 1 %"

    def __init__(self, store: Store) -> None:
        self.store = store

    def daily(
        self,
        since: datetime,
        until: datetime,
        targets: Sequence[str] | None,
        regions: Sequence[str] | None = None,
    ) -> dict[DayKey, Figures]:
        out: dict[DayKey, Figures] = {}
        for result in results.between(self.store, since, until, targets=targets):
            if regions is not None and result.region not in regions:
                continue
            key = (result.target, result.ts.astimezone(UTC).date())
            agg = out.get(key)
            if agg is None:
                agg = out[key] = Figures()
            agg.add(result)
        return out

    def by_region(
        self,
        since: datetime,
        until: datetime,
        targets: Sequence[str] | None,
        regions: Sequence[str] | None = None,
    ) -> dict[RegionKey, Figures]:
        out: dict[RegionKey, Figures] = {}
        for result in results.between(self.store, since, until, targets=targets):
            if regions is not None and result.region not in regions:
                continue
            out.setdefault((result.target, result.region), Figures()).add(result)
        return out

    def daily_and_by_region(
        self,
        since: datetime,
        until: datetime,
        targets: Sequence[str] | None,
        regions: Sequence[str] | None = None,
    ) -> tuple[dict[DayKey, Figures], dict[RegionKey, Figures]]:
        return (
            self.daily(since, until, targets, regions),
            self.by_region(since, until, targets, regions),
        )


class Rollups:
    """Aggregates read from the store's rollups (`monitor.store.rollups`): whole days from day
    rows and whole hours from hour rows, re-bucketed to days in SQL; the ragged edges finer than
    an hour from raw results (exact to the range; minute rollups are kept only two days, raw
    results for `raw_retention`, so past that an edge of up to an hour has no data).

    The rollups keep TTFT, latency and tokens/s sketches (`monitor.sketch`, 1 % relative
    accuracy) and the observed extremes, so percentiles are as good as from raw results.
    """

    description = "rollups"
    precision = "read from the rollups' mergeable sketches accurate to 1 %"

    def __init__(self, store: Store) -> None:
        self.store = store

    def daily(
        self,
        since: datetime,
        until: datetime,
        targets: Sequence[str] | None,
        regions: Sequence[str] | None = None,
    ) -> dict[DayKey, Figures]:
        return self.daily_and_by_region(since, until, targets, regions)[0]

    def by_region(
        self,
        since: datetime,
        until: datetime,
        targets: Sequence[str] | None,
        regions: Sequence[str] | None = None,
    ) -> dict[RegionKey, Figures]:
        """As `daily`, over the whole range and kept apart per region instead of per day."""
        return self.daily_and_by_region(since, until, targets, regions)[1]

    def daily_and_by_region(
        self,
        since: datetime,
        until: datetime,
        targets: Sequence[str] | None,
        regions: Sequence[str] | None = None,
    ) -> tuple[dict[DayKey, Figures], dict[RegionKey, Figures]]:
        """The rollup plan's pieces added up: raw results at the minute edges, day-stepped
        hour rollups, and day rows, keyed per (target, day) and per (target, region).

        The day rows (all of a 90-day report but its edges) are read once for both, row by
        row, their sketches parsed at once and merged as arrays (`monitor.sketch.parse_many`):
        converting and merging them one by one, twice, took ~20 s for 200 targets × 90 days."""
        with paused_gc():
            return self._daily_and_by_region(since, until, targets, regions)

    def _daily_and_by_region(
        self,
        since: datetime,
        until: datetime,
        targets: Sequence[str] | None,
        regions: Sequence[str] | None,
    ) -> tuple[dict[DayKey, Figures], dict[RegionKey, Figures]]:
        daily: dict[DayKey, Figures] = {}
        by_region: dict[RegionKey, Figures] = {}
        raw = RawResults(self.store)

        def add(out: dict[K, Figures], key: K, figures: Figures) -> None:
            mine = out.get(key)
            if mine is None:
                out[key] = Figures().merge(figures)
            else:
                mine.merge(figures)

        for grain, start, end in rollups.plan(since, until):
            lo, hi = datetime.fromtimestamp(start, UTC), datetime.fromtimestamp(end, UTC)
            if grain == rollups.MINUTE:
                edge_lo, edge_hi = max(lo, since), min(hi, until)
                for key, edge in raw.daily(edge_lo, edge_hi, targets, regions).items():
                    add(daily, key, edge)
                for rkey, edge in raw.by_region(edge_lo, edge_hi, targets, regions).items():
                    add(by_region, rkey, edge)
                continue
            if grain == rollups.DAY:
                days_of: dict[RegionKey, list[Figures]] = {}
                for (target, bucket, region), figures in rollups.day_figures(
                    self.store, start, end, targets, regions
                ):
                    days_of.setdefault((target, region), []).append(figures)
                    key = (target, datetime.fromtimestamp(bucket, UTC).date())
                    # The rows' own figures are never changed (the lists above hold them too):
                    # a day of several regions is a new total.
                    before_day = daily.get(key)
                    daily[key] = (
                        figures if before_day is None else Figures.total([before_day, figures])
                    )
                for rkey, days in days_of.items():  # as merged one by one after what is there
                    before = by_region.get(rkey)
                    by_region[rkey] = Figures.total(days if before is None else [before, *days])
                continue
            for by in (False, True):
                found = rollups.fetch(
                    self.store,
                    grain,
                    lo,
                    hi,
                    targets=targets,
                    step=rollups.DAY,
                    regions=regions,
                    by_region=by,
                )
                for agg in found:
                    if by:
                        add(by_region, (agg.target, agg.region), agg.figures())
                    else:
                        add(daily, (agg.target, agg.start.date()), agg.figures())
        return daily, by_region


K = TypeVar("K")


def probe_source(store: Store) -> ProbeSource:
    """The rollups: fast over any range, and kept longer than raw results (`raw_retention`)."""
    return Rollups(store)
