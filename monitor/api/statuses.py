"""Where the API, badges and the transfer switch get statuses and incidents.

From the detector's tables (`monitor.store.incidents`) when they exist; otherwise from the raw
probe results with a plain rule (below), so the API answers even before detection has run. The
answer says which (`source`: `detector` or `probes`).
"""

from __future__ import annotations

import dataclasses
import importlib
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from types import ModuleType
from typing import Any

from monitor.config import Config
from monitor.detect.types import Reason, Status, TargetStatus
from monitor.errors import StorageError
from monitor.result import format_ts
from monitor.store import Store
from monitor.store.probe_stats import Figures, figures, targets_seen

log = logging.getLogger(__name__)


@dataclass(slots=True)
class StatusView:
    statuses: dict[str, TargetStatus]
    source: str  # "detector" | "probes" | "mixed"
    detected: frozenset[str] = frozenset()  # targets whose status came from the detector


def _incidents_module() -> ModuleType | None:
    try:
        return importlib.import_module("monitor.store.incidents")
    except ImportError:
        return None


def _detector(name: str) -> Callable[..., Any] | None:
    module = _incidents_module()
    fn = getattr(module, name, None) if module is not None else None
    return fn if callable(fn) else None


def target_names(store: Store, config: Config) -> list[str]:
    """Configured targets in config order, then any others that have stored results."""
    names = [t.name for t in config.targets()]
    seen = set(names)
    return names + [t for t in targets_seen(store) if t not in seen]


def fresh_window(config: Config) -> timedelta:
    """How far back counts as "now": five probe intervals, at least ten minutes."""
    return timedelta(seconds=max(600.0, 5 * config.schedule.interval))


def current_statuses(store: Store, config: Config, now: datetime) -> StatusView:
    """Every target's status now: the detector's where it has one, else the plain rule over
    recent probes (`status_from_figures`); `source` says which (`mixed` for some of each)."""
    names = target_names(store, config)
    detected: dict[str, TargetStatus] = {}
    read = _detector("current_statuses")
    if read is not None:
        try:
            for name, ts in dict(read(store)).items():
                # Normalised, so a detector that stores words rather than enums reads the same.
                ts.status = Status(ts.status)
                detected[name] = ts
        except StorageError as exc:
            log.warning("detector statuses unreadable, using recent probes: %s", exc)
    missing = [n for n in names if n not in detected]
    statuses = dict(detected)
    if missing:
        recent = figures(store, now - fresh_window(config), now, targets=missing)
        for name in missing:
            statuses[name] = status_from_figures(name, recent.get(name), now)
    source = "detector" if not missing else "probes" if not detected else "mixed"
    return StatusView(statuses, source, frozenset(detected))


def status_from_figures(target: str, f: Figures | None, now: datetime) -> TargetStatus:
    """The plain rule used without a detector: no counted probe is `unknown`; the last three
    failing and half failing is `down`; a fifth failing, rate-limited, or failing its canary
    is `degraded`."""
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
    """The fleet: `status` is the worst status over targets with data (`unknown` only when none
    has data), with `summary`, `counts`, `affected_providers` and `intelligence_brownout`
    (several providers in trouble at once), from the detector's `fleet_status` when present."""
    try:
        from monitor.detect.fleet import fleet_status

        return dict(plain(fleet_status(statuses)))
    except ImportError:
        pass
    counts = {s.value: 0 for s in Status}
    for ts in statuses.values():
        counts[ts.status.value] += 1
    known = [ts.status for ts in statuses.values() if ts.status is not Status.UNKNOWN]
    worst = max(known, key=lambda s: s.severity) if known else Status.UNKNOWN
    affected = sorted(
        {
            n.partition("/")[0]
            for n, ts in statuses.items()
            if ts.status in (Status.DEGRADED, Status.DOWN)
        }
    )
    return {
        "status": worst.value,
        "summary": {
            "operational": "operational",
            "degraded": "some degraded",
            "down": "some down",
        }.get(worst.value, "no data"),
        "counts": counts,
        "affected_providers": affected,
        "intelligence_brownout": len(affected) >= 2,
    }


def open_incidents(store: Store) -> list[Any] | None:
    """The detector's open incidents, or None when there is no detector store yet."""
    read = _detector("open_incidents")
    if read is None:
        return None
    try:
        return list(read(store))
    except StorageError as exc:
        log.warning("detector incidents unreadable: %s", exc)
        return None


def incidents_between(
    store: Store, since: datetime, until: datetime | None, targets: Sequence[str] | None = None
) -> list[Any] | None:
    """The detector's incidents overlapping the window, or None when there is no detector store."""
    read = _detector("incidents_between")
    if read is None:
        return None
    try:
        return list(read(store, since, until, targets=list(targets) if targets else None))
    except StorageError as exc:
        log.warning("detector incidents unreadable: %s", exc)
        return None


def field_of(obj: Any, *names: str) -> Any:
    """The first of `names` that `obj` (an object or a mapping) has; None otherwise."""
    for name in names:
        value = obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)
        if value is not None:
            return value
    return None


def plain(value: Any) -> Any:
    """A JSON-ready copy: datetimes as DESIGN.md timestamps, enums as their words."""
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
    if hasattr(value, "model_dump"):
        return plain(value.model_dump())
    return value
