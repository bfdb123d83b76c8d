"""Lead time over the providers' own status pages: each of brownout's incidents beside the
provider's post, if any (`monitor.statuspages.leadtime.match`). The API's `/api/incidents` and
the OpenTelemetry export read it here."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from monitor.config import Config
from monitor.detect.types import IncidentRecord
from monitor.statuspages.leadtime import LeadTime, match
from monitor.statuspages.model import OfficialIncident
from monitor.store import Store, detection
from monitor.store import statuspages as official


@dataclass(slots=True)
class LeadTimes:
    """Our incidents in a window, each with its `LeadTime` (None when no status page speaks for
    its provider), and the providers' posts in the window widened by the match window."""

    incidents: list[tuple[IncidentRecord, LeadTime | None]]
    posted: list[OfficialIncident]


def lead_times(
    store: Store,
    config: Config,
    since: datetime,
    until: datetime | None,
    targets: Sequence[str] | None = None,
) -> LeadTimes:
    ours = detection.incidents_between(
        store, since, until, targets=list(targets) if targets else None
    )
    widen = timedelta(seconds=config.statuspages.match_window)
    posted = official.incidents_between(store, since - widen, until + widen if until else None)
    by_provider = config.statuspages.pages_by_provider()
    paired: list[tuple[IncidentRecord, LeadTime | None]] = []
    for incident in ours:
        provider = incident.target.partition("/")[0]
        lead = (
            match(incident.target, incident.start, posted, by_provider, widen)
            if provider in by_provider
            else None
        )
        paired.append((incident, lead))
    return LeadTimes(paired, posted)
