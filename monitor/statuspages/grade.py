"""How well a provider's official status page tells of what brownout saw: over a range
(90 days by default), brownout's own incidents on the provider's targets, each set beside the
first incident the provider posted within the match window, give

- `events`: brownout's incidents on that provider that lasted at least `min_duration` (shorter
  blips are not what a status page is for), incidents on several of its targets that overlap in
  time counting as one event;
- `posted` and `never_posted`: how many of them the provider posted at all;
- `median_lead_s`: over those it posted, the median seconds from brownout seeing it to the post
  (positive: brownout was first), and `posted_first`, how many the provider posted before
  brownout saw them;
- `grade`, a letter from the share posted and the median lead:

| grade | posted | and median lead |
|---|---|---|
| A | ≥ 90 % | ≤ 5 min |
| B | ≥ 75 % | ≤ 15 min |
| C | ≥ 50 % | ≤ 30 min |
| D | ≥ 25 % | any |
| F | < 25 % | any |

and None when there was no event to judge by. Pure: incidents in, grades out.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from monitor.statuspages.leadtime import match
from monitor.statuspages.model import OfficialIncident

MIN_DURATION = timedelta(minutes=10)
_GRADES = (("A", 0.90, 300.0), ("B", 0.75, 900.0), ("C", 0.50, 1800.0))


class Incident(Protocol):
    @property
    def target(self) -> str: ...
    @property
    def start(self) -> datetime: ...
    @property
    def end(self) -> datetime | None: ...


@dataclass(slots=True)
class PageGrade:
    provider: str
    pages: list[str]
    events: int = 0
    posted: int = 0
    posted_first: int = 0
    median_lead_s: float | None = None
    grade: str | None = None
    leads_s: list[float] = field(default_factory=list)

    @property
    def never_posted(self) -> int:
        return self.events - self.posted

    def to_dict(self) -> dict[str, Any]:
        return {
            "provider": self.provider,
            "pages": list(self.pages),
            "events": self.events,
            "posted": self.posted,
            "never_posted": self.never_posted,
            "posted_first": self.posted_first,
            "median_lead_s": self.median_lead_s,
            "grade": self.grade,
        }


def letter(posted_share: float, median_lead_s: float | None) -> str:
    """The grade for a share of events posted and the median lead over the posted ones."""
    for name, share, lead in _GRADES:
        if posted_share >= share and (median_lead_s is None or median_lead_s <= lead):
            return name
    return "D" if posted_share >= 0.25 else "F"


def _events(incidents: Sequence[Incident], until: datetime) -> list[tuple[str, datetime]]:
    """Overlapping incidents merged into events: (the first target, the first start)."""
    out: list[tuple[str, datetime, datetime]] = []
    for i in sorted(incidents, key=lambda i: i.start):
        end = i.end or until
        if out and i.start <= out[-1][2]:
            target, start, last = out[-1]
            out[-1] = (target, start, max(last, end))
        else:
            out.append((i.target, i.start, end))
    return [(target, start) for target, start, _ in out]


def grade_pages(
    incidents: Sequence[Incident],
    posted: Sequence[OfficialIncident],
    pages_by_provider: Mapping[str, Sequence[str]],
    window: timedelta,
    until: datetime,
    min_duration: timedelta = MIN_DURATION,
) -> list[PageGrade]:
    """One grade per provider that has a status page configured, by provider name."""
    grades = []
    for provider in sorted(pages_by_provider):
        mine = [
            i
            for i in incidents
            if i.target.partition("/")[0] == provider and (i.end or until) - i.start >= min_duration
        ]
        g = PageGrade(provider, list(pages_by_provider[provider]))
        for target, start in _events(mine, until):
            g.events += 1
            lead = match(target, start, posted, pages_by_provider, window).lead_s
            if lead is not None:
                g.posted += 1
                g.posted_first += lead < 0
                g.leads_s.append(lead)
        if g.leads_s:
            g.median_lead_s = statistics.median(g.leads_s)
        if g.events:
            g.grade = letter(g.posted / g.events, g.median_lead_s)
        grades.append(g)
    return grades
