"""Where the report's probe figures come from.

`probe_source(store)` gives per-target, per-day `Figures`s from the rollups (a 90-day report
reads a few hundred rows, and rollups outlive raw results). `RawResults` computes the same from raw
results streamed in batches (constant memory, one pass), with 1 % percentiles, for short ranges
or checks. Statuses and incidents come from `monitor.reports.statuses`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Protocol

from monitor.figures import Figures
from monitor.store import Store, results, rollups

DayKey = tuple[str, date]
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
        return self._walk(since, until, targets, regions, by_region=False)  # type: ignore[return-value]

    def by_region(
        self,
        since: datetime,
        until: datetime,
        targets: Sequence[str] | None,
        regions: Sequence[str] | None = None,
    ) -> dict[RegionKey, Figures]:
        """As `daily`, over the whole range and kept apart per region instead of per day."""
        return self._walk(since, until, targets, regions, by_region=True)  # type: ignore[return-value]

    def _walk(
        self,
        since: datetime,
        until: datetime,
        targets: Sequence[str] | None,
        regions: Sequence[str] | None,
        *,
        by_region: bool,
    ) -> dict[DayKey | RegionKey, Figures]:
        """The rollup plan's pieces added up: raw results at the minute edges, day-stepped
        rollups between, keyed per (target, day) or, `by_region`, per (target, region)."""
        out: dict[DayKey | RegionKey, Figures] = {}
        raw = RawResults(self.store)
        for grain, start, end in rollups.plan(since, until):
            lo, hi = datetime.fromtimestamp(start, UTC), datetime.fromtimestamp(end, UTC)
            if grain == rollups.MINUTE:
                edge_lo, edge_hi = max(lo, since), min(hi, until)
                edges: dict[DayKey, Figures] | dict[RegionKey, Figures] = (
                    raw.by_region(edge_lo, edge_hi, targets, regions)
                    if by_region
                    else raw.daily(edge_lo, edge_hi, targets, regions)
                )
                for key, edge in edges.items():
                    out.setdefault(key, Figures()).merge(edge)
                continue
            found = rollups.fetch(
                self.store,
                grain,
                lo,
                hi,
                targets=targets,
                step=rollups.DAY,
                regions=regions,
                by_region=by_region,
            )
            for agg in found:
                akey: DayKey | RegionKey = (
                    (agg.target, agg.region) if by_region else (agg.target, agg.start.date())
                )
                out.setdefault(akey, Figures()).merge(self._convert(agg))
        return out

    @staticmethod
    def _convert(agg: rollups.Agg) -> Figures:
        return agg.figures()


def probe_source(store: Store) -> ProbeSource:
    """The rollups: fast over any range, and kept longer than raw results (`raw_retention`)."""
    return Rollups(store)
