"""Where the API, badges and the transfer switch get statuses and incidents.

From the detector's tables (`monitor.store.incidents`) when they exist; otherwise from the raw
probe results with a plain rule (below), so the API answers even before detection has run. The
answer says which (`source`: `detector` or `probes`).
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from types import ModuleType
from typing import Any

from monitor.config import Config
from monitor.detect.types import Reason, Status, TargetStatus
from monitor.result import format_ts
from monitor.store import Store
from monitor.store import results as stored_results
from monitor.store.probe_stats import Figures, figures


@dataclass(slots=True)
class StatusView:
    statuses: dict[str, TargetStatus]
    source: str  # "detector" | "probes"


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
    return names + [t for t in stored_results.known_targets(store) if t not in seen]


def fresh_window(config: Config) -> timedelta:
    """How far back counts as "now": five probe intervals, at least ten minutes."""
    return timedelta(seconds=max(600.0, 5 * config.schedule.interval))


def current_statuses(store: Store, config: Config, now: datetime) -> StatusView:
    """Every target's status now; targets nobody has a status for are `unknown`."""
    names = target_names(store, config)
    read = _detector("current_statuses")
    if read is not None:
        statuses: dict[str, TargetStatus] = {}
        for name, ts in dict(read(store)).items():
            # Normalised, so a detector that stores words rather than enums reads the same.
            ts.status = Status(ts.status)
            statuses[name] = ts
        source = "detector"
    else:
        recent = figures(store, now - fresh_window(config), now)
        statuses = {n: status_from_figures(n, recent.get(n), now) for n in names}
        source = "probes"
    for name in names:
        statuses.setdefault(name, TargetStatus(name, Status.UNKNOWN, now, [Reason.STALE.value]))
    return StatusView(statuses, source)


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


def fleet_status(statuses: Sequence[Status]) -> Status:
    """No targets or all unknown: unknown; all down: down; any degraded or down: degraded."""
    known = [s for s in statuses if s is not Status.UNKNOWN]
    if not known:
        return Status.UNKNOWN
    if all(s is Status.DOWN for s in known):
        return Status.DOWN
    if any(s in (Status.DEGRADED, Status.DOWN) for s in known):
        return Status.DEGRADED
    return Status.OPERATIONAL


def open_incidents(store: Store) -> list[Any] | None:
    """The detector's open incidents, or None when there is no detector store yet."""
    read = _detector("open_incidents")
    return list(read(store)) if read is not None else None


def incidents_between(
    store: Store, since: datetime, until: datetime | None, targets: Sequence[str] | None = None
) -> list[Any] | None:
    """The detector's incidents overlapping the window, or None when there is no detector store."""
    read = _detector("incidents_between")
    if read is None:
        return None
    return list(read(store, since, until, targets=list(targets) if targets else None))


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
