"""Who hears what: the pure decision for one channel and one target. No I/O, no clock of its own.

Each (channel, target) pair has a `PairState`: what the channel was last `told`, what the target
`actual`ly is, and the open incident. A transition moves `actual`; it is told to the channel
unless it is filtered, silenced (maintenance), in cooldown, or something the channel already
knows. `tick` later makes `told` catch up with `actual` once a silence or cooldown is over (a
target still down after its maintenance window is announced then; a recovery that happened
during one is announced then) and sends reminders while an announced incident stays open.

The rules, in order:
- `unknown` is no news: nothing is sent, `actual` keeps the last known status.
- a recovery is told only to channels that were told of the problem, and always goes through
  cooldown (people must hear that it is over); `unknown → operational` at start-up is silent.
- a problem the channel already knows (`told == new`, e.g. after a restart) is a duplicate.
- severities outside the channel's `severities` are filtered (a filtered recovery still closes
  the incident for that channel).
- a maintenance window or silence holds everything back; it is still recorded.
- cooldown: a new or lesser problem within `cooldown` of the last alert on this channel is held
  back; an escalation to `down` always goes through.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from monitor.alerts import messages
from monitor.config.alerts import AlertChannel
from monitor.detect.types import Transition
from monitor.result import format_ts, parse_ts

OPERATIONAL, DEGRADED, DOWN, UNKNOWN = "operational", "degraded", "down", "unknown"
PROBLEMS = (DEGRADED, DOWN)
_RANK = {OPERATIONAL: 0, DEGRADED: 1, DOWN: 2}

QUEUED, REMINDED, SILENCED, COOLDOWN = "queued", "reminded", "silenced", "cooldown"
FILTERED, DUPLICATE, IGNORED = "filtered", "duplicate", "ignored"


@dataclass(frozen=True, slots=True)
class PairState:
    """A channel's view of one target. Times are ISO strings so the state stores as JSON."""

    told: str = OPERATIONAL
    actual: str = OPERATIONAL
    actual_since: str | None = None
    reasons: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    incident_start: str | None = None
    worst: str | None = None
    last_alert_at: str | None = None  # the last problem told (cooldown runs from here)
    last_told_at: str | None = None  # the last message of any kind (reminders run from here)

    def to_json(self) -> str:
        kept = {k: v for k, v in asdict(self).items() if k not in ("told", "actual")}
        return json.dumps(kept, default=str)

    @classmethod
    def load(cls, told: str, actual: str, state: str) -> PairState:
        return cls(told=told, actual=actual, **json.loads(state))


@dataclass(frozen=True, slots=True)
class Decision:
    decision: str
    state: PairState  # the pair's state after this decision
    event: dict[str, Any] | None = None  # what to tell the channel, when something is told
    note: str | None = None


def on_transition(
    channel: AlertChannel, state: PairState, t: Transition, silenced_by: str | None
) -> Decision:
    """Decide what `channel` hears of transition `t`, given the pair's `state`.

    `silenced_by` names the maintenance window covering the pair at `t.ts`, if any.
    """
    new, ts = t.new.value, format_ts(t.ts)
    if new == UNKNOWN:
        return Decision(IGNORED, state, note="no fresh data is not alerted")
    moved = _move(state, t)
    if new == OPERATIONAL:
        if state.told == OPERATIONAL:
            closed = replace(moved, incident_start=None, worst=None)
            return Decision(IGNORED, closed, note="the channel was not told of a problem")
        return _recovery(channel, moved, t.target, ts, silenced_by)
    if state.told == new:
        return Decision(DUPLICATE, moved, note=f"the channel already knows it is {new}")
    if new not in channel.severities:
        return Decision(FILTERED, moved, note=f"{new} is not among the channel's severities")
    if silenced_by is not None:
        return Decision(SILENCED, moved, note=f"maintenance: {silenced_by}")
    if _cooling(channel, moved, new, t.ts):
        return Decision(COOLDOWN, moved, note="within the cooldown of the last alert")
    return _tell_problem(moved, t.target, ts, t.old.value)


def tick(
    channel: AlertChannel, state: PairState, target: str, now: datetime, silenced_by: str | None
) -> Decision | None:
    """What the channel should hear now without a new transition: a problem or recovery held
    back earlier (maintenance, cooldown), or a reminder. None when nothing is due."""
    if silenced_by is not None:
        return None
    ts = format_ts(now)
    if state.actual != state.told:
        if state.actual == OPERATIONAL:
            return _recovery(channel, state, target, state.actual_since or ts, None, late=True)
        if state.actual not in channel.severities or _cooling(channel, state, state.actual, now):
            return None
        note = "It was held back by a maintenance window or cooldown and is still the case."
        return _tell_problem(state, target, state.actual_since or ts, state.told, note=note)
    if _reminder_due(channel, state, now):
        after = replace(state, last_told_at=ts)
        event = messages.event(
            messages.REMINDER,
            ts=now,
            target=target,
            old=state.actual,
            new=state.actual,
            reasons=state.reasons,
            details=state.details,
            incident_start=_dt(state.incident_start),
            worst=state.worst,
        )
        return Decision(REMINDED, after, event)
    return None


def _reminder_due(channel: AlertChannel, state: PairState, now: datetime) -> bool:
    if state.actual not in PROBLEMS or not channel.remind_every or not state.last_told_at:
        return False
    return now - parse_ts(state.last_told_at) >= timedelta(seconds=channel.remind_every)


def _move(state: PairState, t: Transition) -> PairState:
    """`state` with the target's actual status moved by `t` (incident opened or worsened)."""
    new, ts = t.new.value, format_ts(t.ts)
    if new == OPERATIONAL:
        return replace(state, actual=new, actual_since=ts, reasons=[], details={})
    fresh = state.actual == OPERATIONAL or t.old.value == OPERATIONAL or not state.incident_start
    start = ts if fresh else state.incident_start
    worst = new if fresh or not state.worst else max(state.worst, new, key=_RANK.__getitem__)
    return replace(
        state,
        actual=new,
        actual_since=ts,
        reasons=list(t.reasons),
        details=dict(t.details),
        incident_start=start,
        worst=worst,
    )


def _cooling(channel: AlertChannel, state: PairState, new: str, at: datetime) -> bool:
    if new == DOWN and state.told != DOWN:
        return False  # escalations to down always go through
    if not state.last_alert_at:
        return False
    return at - parse_ts(state.last_alert_at) < timedelta(seconds=channel.cooldown)


def _tell_problem(
    state: PairState, target: str, ts: str, old: str, note: str | None = None
) -> Decision:
    after = replace(state, told=state.actual, last_alert_at=ts, last_told_at=ts)
    event = messages.event(
        messages.PROBLEM,
        ts=parse_ts(ts),
        target=target,
        old=old,
        new=state.actual,
        reasons=state.reasons,
        details=state.details,
        incident_start=_dt(state.incident_start),
        worst=state.worst,
        note=note,
        told=state.told,
    )
    return Decision(QUEUED, after, event)


def _recovery(
    channel: AlertChannel,
    state: PairState,
    target: str,
    ts: str,
    silenced_by: str | None,
    late: bool = False,
) -> Decision:
    closed = replace(state, told=OPERATIONAL, incident_start=None, worst=None)
    if "recovered" not in channel.severities:
        return Decision(FILTERED, closed, note="recovered is not among the channel's severities")
    if silenced_by is not None:
        return Decision(SILENCED, state, note=f"maintenance: {silenced_by}")
    event = messages.event(
        messages.RECOVERY,
        ts=parse_ts(ts),
        target=target,
        old=state.told,
        new=OPERATIONAL,
        incident_start=_dt(state.incident_start),
        worst=state.worst,
        note="It was held back by a maintenance window." if late else None,
    )
    return Decision(QUEUED, replace(closed, last_told_at=ts), event)


def _dt(ts: str | None) -> datetime | None:
    return parse_ts(ts) if ts else None
