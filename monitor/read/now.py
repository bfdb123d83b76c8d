"""The status now, one answer for the API, the transfer switch, the page and `brownout status`.

    current = status_now(store, config, utcnow())
    current.targets["openai/gpt-4o-mini"].status        # Status.OPERATIONAL
    current.providers["openai"].status                  # "operational" … "major_outage"
    current.fleet.intelligence_brownout                 # with detection.fleet.providers
    current.monitor.reporting                           # False: the monitor itself is silent

Where each part comes from:
- a target's status, since, reasons and details: the detector's stored status (the one the
  detector last saved; `source: detector`). A target the detector has not seen yet gets the plain
  rule over its last minutes of minute rollups (`source: probes`, see `status_from_counts`).
- staleness, by the detector's rule alone: a target whose newest result is `stale_after`
  intervals old, beyond what its probes may take (`monitor.detect.engine.stale_seconds_for`), is
  `unknown` (reason `stale`), from the moment it went stale.
- but when *no* target has a fresh result the monitor itself is not reporting: that is a gap in
  the monitor's data, not a change of any provider. Every target then keeps its last known status
  and `since` (marked `stale`), and `monitor.reporting` is False with the last result's time; the
  surfaces say "monitor not reporting since …" rather than "unknown".
- a provider's word, as Statuspage components use them (`provider_now`): `operational`,
  `degraded_performance`, `partial_outage` (some targets down), `major_outage` (every target with
  data down), `unknown` when none of its targets has data.
- the fleet verdict: `monitor.detect.fleet.fleet_status` with `detection.fleet.providers`.

The record is per target and then per provider so that per-region detail can sit beside a
target's reasons, and the name of the instance whose statuses these are beside `generated_at`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from monitor.config import Config
from monitor.detect.engine import stale_seconds_for, stale_windows_for
from monitor.detect.fleet import fleet_status
from monitor.detect.types import FleetStatus, Reason, Status, TargetStatus
from monitor.result import format_ts
from monitor.store import Store, lease, rollups
from monitor.store import detection as detection_store
from monitor.store import results as stored_results
from monitor.store.lease import LeaseInfo

# Statuspage's component words, worst last.
OPERATIONAL = "operational"
DEGRADED_PERFORMANCE = "degraded_performance"
PARTIAL_OUTAGE = "partial_outage"
MAJOR_OUTAGE = "major_outage"
NO_DATA = "unknown"
PROVIDER_WORDS = (OPERATIONAL, DEGRADED_PERFORMANCE, PARTIAL_OUTAGE, MAJOR_OUTAGE, NO_DATA)
# The plain rule's window: five probe intervals, at least ten minutes.
PLAIN_RULE_MIN_WINDOW = 600.0
KNOWN_DAYS = 90  # a target with rollups this recent is still listed


@dataclass(slots=True)
class TargetNow:
    """One target's status now. `stale`: no fresh result by the detector's rule; `source`:
    `detector` (its stored status) or `probes` (the plain rule, no detector status yet)."""

    target: str
    status: Status
    since: datetime
    reasons: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    source: str = "detector"
    last_result: datetime | None = None
    stale: bool = False

    @property
    def provider(self) -> str:
        return self.target.partition("/")[0]

    @property
    def model(self) -> str:
        return self.target.partition("/")[2]

    def as_target_status(self) -> TargetStatus:
        return TargetStatus(self.target, self.status, self.since, self.reasons, self.details)

    def _regions(self) -> dict[str, Any]:
        """`regions` (where it is in trouble) and `regional` beside the reasons, for a target
        probed from several regions (monitor.detect.regions)."""
        if "regions" not in self.details:
            return {}
        return {
            "regions": list(self.details["regions"]),
            "regional": bool(self.details.get("regional")),
        }

    def region_status(self, region: str, probed: bool) -> str | None:
        """The status word `region` sees for this target: its own detection's for a target
        probed from several regions (`details.by_region`, monitor.detect.regions); for a target
        with one region, the target's status when `region` probed it (`probed`: it has recent
        results there), else None."""
        seen = dict(self.details.get("by_region") or {})
        if seen:
            word = seen.get(region)
            return None if word is None else str(word)
        return self.status.value if probed else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "provider": self.provider,
            "model": self.model,
            "status": self.status.value,
            "since": format_ts(self.since),
            "reasons": list(self.reasons),
            **self._regions(),
            "details": _plain(self.details),
            "source": self.source,
            "last_result": format_ts(self.last_result) if self.last_result else None,
            "stale": self.stale,
        }


@dataclass(slots=True)
class ProviderNow:
    """A provider as a status page shows one: its word, since when, and its targets' counts."""

    provider: str
    status: str  # one of PROVIDER_WORDS
    since: datetime | None
    counts: dict[str, int]
    targets: list[str]

    @property
    def worst(self) -> Status:
        """The target status the word stands for (`partial_outage` is some `down`)."""
        return {
            OPERATIONAL: Status.OPERATIONAL,
            DEGRADED_PERFORMANCE: Status.DEGRADED,
            PARTIAL_OUTAGE: Status.DOWN,
            MAJOR_OUTAGE: Status.DOWN,
        }.get(self.status, Status.UNKNOWN)

    def to_dict(self) -> dict[str, Any]:
        return {
            "provider": self.provider,
            "status": self.status,
            "since": format_ts(self.since) if self.since else None,
            "counts": dict(self.counts),
            "targets": list(self.targets),
        }


@dataclass(slots=True)
class MonitorNow:
    """Whether the monitor itself is producing data: `reporting` is False when no target has a
    fresh result; `last_result` is the newest stored result of any target."""

    reporting: bool
    last_result: datetime | None
    # which monitor runs detection and alerts (`monitor.pipeline.leader`)
    leader: LeaseInfo | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "reporting": self.reporting,
            "last_result": format_ts(self.last_result) if self.last_result else None,
            "leader": self.leader.to_dict() if self.leader is not None else None,
        }


@dataclass(slots=True)
class StatusNow:
    generated_at: datetime
    targets: dict[str, TargetNow]
    providers: dict[str, ProviderNow]
    fleet: FleetStatus
    monitor: MonitorNow

    @property
    def source(self) -> str:
        """`detector`, `probes`, or `mixed` when some of each."""
        kinds = {t.source for t in self.targets.values()}
        return kinds.pop() if len(kinds) == 1 else "mixed" if kinds else "detector"

    def statuses(self) -> dict[str, TargetStatus]:
        return {name: t.as_target_status() for name, t in self.targets.items()}

    def counts(self) -> dict[str, int]:
        """Targets per status word, every word present."""
        out = {s.value: 0 for s in Status}
        for t in self.targets.values():
            out[t.status.value] += 1
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "generated_at": format_ts(self.generated_at),
            "source": self.source,
            "monitor": self.monitor.to_dict(),
            "fleet": self.fleet.to_dict(),
            "providers": [p.to_dict() for p in self.providers.values()],
            "targets": [t.to_dict() for t in self.targets.values()],
        }


# --- pure rules ---------------------------------------------------------------------------------


def provider_now(provider: str, members: Sequence[TargetStatus | TargetNow]) -> ProviderNow:
    """`provider`'s word over its targets with data (not `unknown`): `major_outage` when every
    one is down, `partial_outage` when some are, `degraded_performance` when some are degraded,
    else `operational`; `unknown` when none has data. `since` is the earliest `since` of the
    targets that give the word (when the provider's worst state began)."""
    counts = {s.value: 0 for s in Status}
    for m in members:
        counts[m.status.value] += 1
    known = [m for m in members if m.status is not Status.UNKNOWN]
    down = [m for m in known if m.status is Status.DOWN]
    degraded = [m for m in known if m.status is Status.DEGRADED]
    if not known:
        word, giving = NO_DATA, list(members)
    elif len(down) == len(known):
        word, giving = MAJOR_OUTAGE, down
    elif down:
        word, giving = PARTIAL_OUTAGE, down
    elif degraded:
        word, giving = DEGRADED_PERFORMANCE, degraded
    else:
        word, giving = OPERATIONAL, known
    since = min((m.since for m in giving), default=None)
    return ProviderNow(provider, word, since, counts, [m.target for m in members])


def providers_now(statuses: Mapping[str, TargetStatus | TargetNow]) -> dict[str, ProviderNow]:
    """Every provider's `provider_now`, in the order its first target appears."""
    grouped: dict[str, list[TargetStatus | TargetNow]] = defaultdict(list)
    for name, status in statuses.items():
        grouped[name.partition("/")[0]].append(status)
    return {p: provider_now(p, members) for p, members in grouped.items()}


@dataclass(slots=True)
class Counts:
    """What the plain rule needs of a target's recent probes (from minute rollups)."""

    probes: int = 0  # counted: all but cancelled
    failures: int = 0  # provider failures
    rate_limited: int = 0
    checked: int = 0
    passed: int = 0
    last_minute_failed: bool = False


def status_from_counts(target: str, c: Counts | None, now: datetime) -> TargetStatus:
    """The plain rule, where the detector has no status for a target: no counted probe is
    `unknown`; half failing with the newest minute failing is `down`; a fifth failing, a fifth
    rate-limited, or under 80 % of canaries passing is `degraded`."""
    if c is None or c.probes == 0:
        return TargetStatus(target, Status.UNKNOWN, now, [Reason.STALE.value])
    failure = c.failures / c.probes
    details: dict[str, Any] = {"errors": {"failure_ratio": round(failure, 4), "probes": c.probes}}
    if failure >= 0.5 and c.last_minute_failed:
        return TargetStatus(target, Status.DOWN, now, [Reason.ERRORS.value], details)
    reasons = []
    if failure >= 0.2:
        reasons.append(Reason.ERRORS.value)
    if c.rate_limited / c.probes >= 0.2:
        reasons.append(Reason.RATE_LIMIT.value)
    if c.checked and c.passed / c.checked < 0.8:
        reasons.append(Reason.QUALITY.value)
        details["quality"] = {"pass_ratio": round(c.passed / c.checked, 4), "checked": c.checked}
    status = Status.DEGRADED if reasons else Status.OPERATIONAL
    return TargetStatus(target, status, now, reasons, details if reasons else {})


# --- reading -----------------------------------------------------------------------------------


def target_names(store: Store, config: Config, now: datetime | None = None) -> list[str]:
    """Configured targets in config order, then any others with stored results or rollups in the
    last KNOWN_DAYS days (sorted): the one list of targets every surface shows."""
    names = [t.name for t in config.targets()]
    seen = set(names)
    since = (now or datetime.now(UTC)) - timedelta(days=KNOWN_DAYS)
    others = set(stored_results.known_targets(store)) | set(rollups.targets_since(store, since))
    return names + sorted(others - seen)


def covered(first: datetime | None, now: datetime, window: float) -> float | None:
    """Seconds of the `window` before `now` that have data, when fewer than the window (the data
    began at `first`, e.g. `rollups.first_seen`); None when the data covers it all or there is
    none. How every surface says "3 d of 30 d"."""
    if first is None:
        return None
    seconds = (now - max(first, now - timedelta(seconds=window))).total_seconds()
    return seconds if seconds < window * 0.995 else None


def stale_seconds(config: Config, target: str) -> float:
    """The detector's staleness rule for `target`: `stale_after` intervals plus what its probes
    may take (a probe in flight is not missing data)."""
    return stale_seconds_for(config, target)


def plain_rule_window(config: Config) -> timedelta:
    """How far back the plain rule looks: five probe intervals, at least ten minutes."""
    return timedelta(seconds=max(PLAIN_RULE_MIN_WINDOW, 5 * config.schedule.interval))


def recent_counts(
    store: Store, since: datetime, until: datetime, names: Sequence[str]
) -> dict[str, Counts]:
    """The plain rule's `Counts` over `[since, until)` from minute rollups."""
    wanted = ["n", rollups.FAILED, "n_rate_limited", "n_cancelled", "n_quality", "n_quality_ok"]
    out: dict[str, Counts] = {}
    for agg in rollups.fetch(store, rollups.MINUTE, since, until, targets=names, columns=wanted):
        c = out.setdefault(agg.target, Counts())
        c.probes += agg.n - agg.count("cancelled")
        c.failures += agg.failures
        c.rate_limited += agg.count("rate_limited")
        c.checked += int(agg["n_quality"])
        c.passed += int(agg["n_quality_ok"])
        c.last_minute_failed = agg.failures > 0  # fetch returns oldest first
    return out


def status_now(
    store: Store, config: Config, now: datetime, names: Sequence[str] | None = None
) -> StatusNow:
    """Every target's status now (of `names`, default `target_names`), its providers' words, the
    fleet verdict and whether the monitor is reporting. See the module's docstring for the rules."""
    names = list(names) if names is not None else target_names(store, config, now)
    stored = detection_store.stored_statuses(store)
    windows = stale_windows_for(config, names)
    longest = max(windows.values(), default=0.0)
    newest = stored_results.newest_since(store, now - timedelta(seconds=longest))
    missing = [n for n in names if n not in stored]
    plain: dict[str, TargetStatus] = {}
    if missing:
        counts = recent_counts(store, now - plain_rule_window(config), now, missing)
        plain = {n: status_from_counts(n, counts.get(n), now) for n in missing}
    fresh = {n for n in names if n in newest and (now - newest[n]).total_seconds() < windows[n]}
    # The monitor reports while any target at all (named here or not) has a fresh result.
    every = windows | stale_windows_for(config, [n for n in newest if n not in windows])
    reporting = bool(fresh) or any(
        (now - ts).total_seconds() < every[n] for n, ts in newest.items()
    )
    older = stored_results.newest_of(store, [n for n in names if n not in newest])
    targets: dict[str, TargetNow] = {}
    for name in names:
        base = stored.get(name) or plain[name]
        source = "detector" if name in stored else "probes"
        last = newest.get(name)
        if last is None:
            last = older.get(name)
        item = TargetNow(
            name,
            Status(base.status),
            base.since,
            list(base.reasons),
            dict(base.details),
            source,
            last,
        )
        if name not in fresh:
            item.stale = True
            if reporting and item.status is not Status.UNKNOWN:
                # The monitor is running but this target has nothing fresh: unknown, as the
                # detector's own staleness rule says, from the moment it went stale.
                went_stale = (last or now) + timedelta(seconds=windows[name])
                item.status, item.since = Status.UNKNOWN, min(went_stale, now)
                item.reasons = [Reason.STALE.value]
                item.details = {"stale": {"last_result": format_ts(last) if last else None}}
        targets[name] = item
    statuses = {n: t.as_target_status() for n, t in targets.items()}
    last_any = max((t.last_result for t in targets.values() if t.last_result), default=None)
    return StatusNow(
        generated_at=now,
        targets=targets,
        providers=providers_now(targets),
        fleet=fleet_status(statuses, config.detection.fleet.providers),
        monitor=MonitorNow(reporting, last_any, lease.current(store)),
    )


def _plain(value: Any) -> Any:
    """A JSON-ready copy: datetimes as timestamps, containers copied."""
    if isinstance(value, datetime):
        return format_ts(value)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v) for v in value]
    return value
