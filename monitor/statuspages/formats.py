"""The official status page formats brownout reads, and how one body becomes components and
incidents:

| format | what to configure | sibling read too |
|---|---|---|
| `statuspage` | Atlassian Statuspage's `…/api/v2/summary.json` | `incidents.json` (resolved ones) |
| `incidentio` | an incident.io page's widget API URL | none |
| `google_cloud` | `https://status.cloud.google.com/incidents.json` | none |
| `instatus` | an Instatus page's `…/summary.json` | `v2/components.json` |

`auto` (the default) tells them apart by the body's shape. Pure: the poller
(`monitor.pipeline.statuspages`) fetches, this module reads.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from monitor.statuspages import atlassian, gcloud, incidentio, instatus
from monitor.statuspages.model import OfficialComponent, OfficialIncident

Format = Literal["statuspage", "incidentio", "google_cloud", "instatus"]
FORMATS: tuple[Format, ...] = ("statuspage", "incidentio", "google_cloud", "instatus")


@dataclass(slots=True)
class Reading:
    """One poll of a page. `lists_only_open`: the format lists open incidents only, so a stored
    open incident missing from this reading has ended."""

    format: Format
    components: list[OfficialComponent] = field(default_factory=list)
    incidents: list[OfficialIncident] = field(default_factory=list)
    lists_only_open: bool = False


def detect(body: Any) -> Format:
    """The format of a page's body, by its shape. Raises ValueError when it is none of them."""
    if gcloud.is_incident_list(body) and isinstance(body, list):
        return "google_cloud"
    if incidentio.is_widget(body):
        return "incidentio"
    if instatus.is_summary(body):
        return "instatus"
    if isinstance(body, dict) and ("components" in body or "incidents" in body):
        return "statuspage"
    raise ValueError("not a status page format brownout reads (" + ", ".join(FORMATS) + ")")


def siblings(fmt: Format, url: str) -> dict[str, str]:
    """The other documents of a page worth reading beside `url`, by role."""
    if fmt == "statuspage" and (extra := _statuspage_incidents(url)):
        return {"incidents": extra}
    if fmt == "instatus" and (extra := instatus.components_url(url)):
        return {"components": extra}
    return {}


def _statuspage_incidents(summary_url: str) -> str | None:
    if summary_url.endswith("/summary.json"):
        return summary_url.removesuffix("summary.json") + "incidents.json"
    return None


def read(fmt: Format, page: str, body: Any, extra: Mapping[str, Any], seen_at: datetime) -> Reading:
    """Read a page's body (and the siblings that could be fetched, by role). Raises ValueError
    when the body is not of that format."""
    if fmt == "statuspage":
        components = atlassian.parse_components(page, body)
        found = {i.incident_id: i for i in atlassian.parse_incidents(page, body)}
        if "incidents" in extra:
            # Newer wins: summary.json lists open incidents as they are now.
            found = {
                i.incident_id: i for i in atlassian.parse_incidents(page, extra["incidents"])
            } | found
        return Reading(fmt, components, list(found.values()))
    if fmt == "incidentio":
        components, incidents = incidentio.parse(page, body, seen_at)
        return Reading(fmt, components, incidents, incidentio.LISTS_ONLY_OPEN)
    if fmt == "google_cloud":
        components, incidents = gcloud.parse(page, body)
        return Reading(fmt, components, incidents, gcloud.LISTS_ONLY_OPEN)
    incidents = instatus.parse_summary(page, body, seen_at)
    components = (
        instatus.parse_components(page, extra["components"]) if "components" in extra else []
    )
    return Reading(fmt, components, incidents, instatus.LISTS_ONLY_OPEN)
