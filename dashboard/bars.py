"""The 90-day daily bars: one cell per target and UTC day, coloured by the day's worst incident
where detection stored one, else by the day's figures (`day_status`).

Day rows before yesterday no longer change: they are read once a day and kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from monitor.detect.types import Status
from monitor.store import Store, rollups
from monitor.store.rollups import DAY, Agg

BAR_DAYS = 90
_past_days_cache: dict[tuple[str, tuple[str, ...], datetime, tuple[str, ...]], list[Agg]] = {}


@dataclass(slots=True)
class DayCell:
    target: str
    day: date
    status: Status
    agg: Agg | None  # the day's figures; None when nothing was probed


@dataclass(slots=True)
class Incident:
    target: str
    start: datetime
    end: datetime | None  # None while open
    worst: Status
    reasons: list[str]

    @property
    def open(self) -> bool:
        return self.end is None

    def duration(self, now: datetime) -> timedelta:
        return (self.end or now) - self.start


def day_status(agg: Agg | None) -> Status:
    """A day's colour from its figures alone: down past 10 % failed probes, degraded past 1 %
    or with under 95 % of canaries passed, unknown with no probes."""
    if agg is None or agg.uptime is None:
        return Status.UNKNOWN
    failed = 1 - agg.uptime
    if failed >= 0.10:
        return Status.DOWN
    quality = agg.quality_rate
    if failed >= 0.01 or (quality is not None and quality < 0.95):
        return Status.DEGRADED
    return Status.OPERATIONAL


def daily(
    store: Store,
    now: datetime,
    names: Sequence[str],
    incidents: Sequence[Incident],
    regions: Sequence[str] | None = None,
) -> list[DayCell]:
    """The last BAR_DAYS UTC days per target: the worst incident of the day where the day has
    figures (of `regions`' probes, default all), else `day_status` of no figures (no data)."""
    today = datetime(now.year, now.month, now.day, tzinfo=UTC)
    first = today - timedelta(days=BAR_DAYS - 1)
    # Yesterday is read afresh too: a probe begun before midnight may be stored after it.
    settled = today - timedelta(days=1)
    found = _past_days(store, first, settled, names, regions) + rollups.fetch(
        store,
        DAY,
        settled,
        today + timedelta(days=1),
        targets=names,
        columns=rollups.UPTIME,
        regions=regions,
    )
    day_of: dict[int, date] = {}  # a date per bucket: 90 of them, not one per row (18,000)
    by_key: dict[tuple[str, date], Agg] = {}
    for agg in found:
        on = day_of.get(agg.bucket)
        if on is None:
            on = day_of[agg.bucket] = agg.start.date()
        by_key[(agg.target, on)] = agg
    worst: dict[tuple[str, date], Status] = {}
    for incident in incidents:
        day = max(incident.start, first)
        while day < (incident.end or now) and day <= now:
            key = (incident.target, day.date())
            if incident.worst.severity > worst.get(key, Status.OPERATIONAL).severity:
                worst[key] = incident.worst
            day = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(days=1)
    cells = []
    days = [(first + timedelta(days=offset)).date() for offset in range(BAR_DAYS)]
    for name in names:
        for when in days:
            agg = by_key.get((name, when))
            status = (
                day_status(None) if agg is None else worst.get((name, when), Status.OPERATIONAL)
            )
            cells.append(DayCell(name, when, status, agg))
    return cells


def _past_days(
    store: Store,
    first: datetime,
    until: datetime,
    names: Sequence[str],
    regions: Sequence[str] | None,
) -> list[Agg]:
    """Day rows from `first` to `until` (before yesterday): they no longer change, so they are
    read once a day and kept (per database, set of targets and regions); a refresh reads the
    rest."""
    key = (store.engine.url.render_as_string(), tuple(names), first, tuple(regions or ()))
    kept = _past_days_cache.get(key)
    if kept is None:
        kept = rollups.fetch(
            store, DAY, first, until, targets=names, columns=rollups.UPTIME, regions=regions
        )
        if len(_past_days_cache) >= 16:  # a few filter choices per page; never unbounded
            _past_days_cache.clear()
        _past_days_cache[key] = kept
    return kept
