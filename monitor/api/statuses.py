"""Where the API, badges and the transfer switch get statuses: the detector's stored ones
(`monitor.store.detection`), and for a target the detector has no status for yet (results stored
by `brownout once`, or before detection first ran) a plain rule over its recent probes. The
answer says which, per target (`source`: `detector` or `probes`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from typing import Any

from monitor.config import Config
from monitor.detect.fleet import fleet_status
from monitor.detect.types import Reason, Status, TargetStatus
from monitor.result import format_ts
from monitor.store import Store, detection
from monitor.store.probe_stats import Figures, figures, targets_seen


@dataclass(slots=True)
class StatusView:
    statuses: dict[str, TargetStatus]
    source: str  # "detector" | "probes" | "mixed"
    detected: frozenset[str] = frozenset()  # targets whose status came from the detector


def target_names(store: Store, config: Config) -> list[str]:
    """Configured targets in config order, then any others that have stored results."""
    names = [t.name for t in config.targets()]
    seen = set(names)
    return names + [t for t in targets_seen(store) if t not in seen]


def fresh_window(config: Config) -> timedelta:
    """How far back counts as "now": five probe intervals, at least ten minutes."""
    return timedelta(seconds=max(600.0, 5 * config.schedule.interval))


def current_statuses(store: Store, config: Config, now: datetime) -> StatusView:
    """Every target's status now: the detector's where it has one, else `status_from_figures`
    over recent probes; `source` says which (`mixed` for some of each)."""
    names = target_names(store, config)
    statuses = detection.current_statuses(store)
    missing = [n for n in names if n not in statuses]
    from_detector = frozenset(statuses)
    if missing:
        recent = figures(store, now - fresh_window(config), now, targets=missing)
        for name in missing:
            statuses[name] = status_from_figures(name, recent.get(name), now)
    source = "detector" if not missing else "probes" if not from_detector else "mixed"
    return StatusView(statuses, source, from_detector)


def status_from_figures(target: str, f: Figures | None, now: datetime) -> TargetStatus:
    """The plain rule used where the detector has no status: no counted probe is `unknown`; half
    failing with the last one failing is `down`; a fifth failing, a fifth rate-limited, or under
    80 % of canaries passing is `degraded`."""
    if f is None or f.counted == 0:
        return TargetStatus(target, Status.UNKNOWN, now, [Reason.STALE.value])
    failure = f.failures / f.counted
    details: dict[str, Any] = {"errors": {"failure_ratio": round(failure, 4), "probes": f.counted}}
    if failure >= 0.5 and f.last_outcome not in ("ok", "wrong_answer"):
        return TargetStatus(target, Status.DOWN, now, [Reason.ERRORS.value], details)
    reasons = []
    if failure >= 0.2:
        reasons.append(Reason.ERRORS.value)
    if (f.rate_limited_ratio or 0) >= 0.2:
        reasons.append(Reason.RATE_LIMIT.value)
    if f.pass_ratio is not None and f.pass_ratio < 0.8:
        reasons.append(Reason.QUALITY.value)
        details["quality"] = {"pass_ratio": round(f.pass_ratio, 4), "checked": f.checked}
    status = Status.DEGRADED if reasons else Status.OPERATIONAL
    return TargetStatus(target, status, now, reasons, details if reasons else {})


def fleet(statuses: Mapping[str, TargetStatus]) -> dict[str, Any]:
    """The fleet as the detector sees it: the worst status over targets with data, counts,
    affected providers, and `intelligence_brownout` (several providers in trouble at once)."""
    return fleet_status(statuses).to_dict()


def plain(value: Any) -> Any:
    """A JSON-ready copy: datetimes as docs/contract.md writes timestamps, enums as their words."""
    if isinstance(value, datetime):
        return format_ts(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [plain(v) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return plain({f.name: getattr(value, f.name) for f in dataclasses.fields(value)})
    return value
