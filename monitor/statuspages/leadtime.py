"""Lead time: how long before the provider posted an incident brownout had already seen.

Pure: takes brownout's incidents (anything with `target`, `start`) and the posted incidents,
and pairs each of ours with the first posted incident of a page that speaks for its provider
and was created within `window` of our start (before or after). Positive lead time means
brownout saw it first.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from monitor.result import format_ts
from monitor.statuspages.model import OfficialIncident


@dataclass(slots=True)
class LeadTime:
    target: str
    seen_at: datetime
    posted: OfficialIncident | None

    @property
    def lead_s(self) -> float | None:
        """Seconds from brownout's start to the provider's post; None when never posted."""
        if self.posted is None:
            return None
        return (self.posted.created_at - self.seen_at).total_seconds()

    def to_dict(self) -> dict[str, Any]:
        return {
            "seen_at": format_ts(self.seen_at),
            "posted_at": format_ts(self.posted.created_at) if self.posted else None,
            "lead_s": self.lead_s,
            "official": self.posted.to_dict() if self.posted else None,
        }


def match(
    target: str,
    seen_at: datetime,
    posted: Sequence[OfficialIncident],
    pages_by_provider: Mapping[str, Sequence[str]],
    window: timedelta,
) -> LeadTime:
    """Pair brownout's incident on `target` starting at `seen_at` with the provider's, if any."""
    provider = target.partition("/")[0]
    pages = set(pages_by_provider.get(provider, ()))
    candidates = [
        p
        for p in posted
        if p.page in pages
        and abs((p.created_at - seen_at).total_seconds()) <= window.total_seconds()
    ]
    best = min(candidates, key=lambda p: p.created_at, default=None)
    return LeadTime(target, seen_at, best)
