"""The alert service `brownout run` drives: decide, write the outbox, deliver.

    service = AlertService(store, config)
    service.on_transitions(transitions)   # after each detection pass: durable, no network
    service.remind()                      # every minute or so: held-back alerts, reminders
    await service.deliver_due()           # every few seconds: send what is due

Deciding and sending are apart on purpose: a decision is a row in the database before anything
goes on the network, so a crash, a restart or a receiver that is down loses nothing.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from monitor.alerts import channels, policy
from monitor.alerts.delivery import Deliverer
from monitor.alerts.messages import PROBLEM, REMINDER, burn_event, resolved_event
from monitor.alerts.policy import Decision, PairState
from monitor.alerts.silences import silenced_by
from monitor.config import Config
from monitor.config.alerts import AlertChannel
from monitor.detect.types import Transition
from monitor.errors import BrownoutError
from monitor.read.slo import with_slo
from monitor.result import utcnow
from monitor.route import Answer, switch_for
from monitor.slo import PAGE, TICKET, Page
from monitor.store import Store, outbox, slo_burns
from monitor.store.outbox import AlertLogRow, Message

log = logging.getLogger(__name__)

Pair = tuple[str, str]  # (channel, target)


class AlertService:
    """Routes transitions to channels through the outbox. One per monitor process.

    `sender` (default `channels.send`, blocking) is how a message reaches a destination; tests
    may pass their own, but the real one delivering to a loopback receiver is preferred.
    """

    def __init__(
        self,
        store: Store,
        config: Config,
        clock: Callable[[], datetime] = utcnow,
        *,
        sender: Callable[[channels.Destination, str, str, str], None] = channels.send,
        lease: timedelta | None = None,
        max_attempts: int | None = None,
    ) -> None:
        self.store = store
        self.config = config
        self.clock = clock
        self._channels = {c.name: c for c in config.alerts}
        self._addresses = {
            name: [d.address for d in dests]
            for name, dests in channels.registry(config.alerts).items()
        }
        # Where to switch each target in trouble, read once per pass (see `_switch`).
        self._switches: dict[str, dict[str, Any] | None] = {}
        self._rankings: dict[tuple[str, ...], Answer] = {}
        self._burns_checked = False  # whether `on_burn` has run in this process
        self._deliverer = Deliverer(
            store,
            config,
            clock,
            sender=sender,
            lease=lease or timedelta(seconds=config.delivery.lease),
            max_attempts=max_attempts or config.delivery.max_attempts,
        )

    def on_transitions(self, transitions: Sequence[Transition]) -> int:
        """Decide who hears what of `transitions`; record every decision and write the messages
        to the outbox, in one transaction. No network. Returns how many notifications (channel ×
        target) were queued; held-back ones are recorded, not counted."""
        if not transitions or not self._channels:
            return 0
        now = self.clock()
        self._switches, self._rankings = {}, {}
        states = self._states(sorted({t.target for t in transitions}))
        logs: list[AlertLogRow] = []
        messages: dict[str, Message] = {}
        for t in sorted(transitions, key=lambda t: t.ts):
            for channel in self._channels.values():
                if not channel.wants(t.target):
                    continue
                pair = (channel.name, t.target)
                state = states.get(pair, PairState())
                held = silenced_by(self.config.maintenance, t.target, channel.name, t.ts)
                decision = policy.on_transition(channel, state, t, held)
                states[pair] = decision.state
                row = _log_row(channel.name, t.target, now, t.ts, decision, t.old.value, t)
                logs.append(row)
                self._add(messages, channel, row, decision, now, kind="alert")
        return self._commit(logs, messages, now)

    def remind(self) -> int:
        """Tell what is due without a new transition: alerts held back by a maintenance window
        or cooldown that has ended (a target still down, a recovery during maintenance), and
        reminders (`remind_every`) for announced incidents still open, one digest per channel.
        Returns how many notifications were queued."""
        if not self._channels:
            return 0
        now = self.clock()
        self._switches, self._rankings = {}, {}
        logs: list[AlertLogRow] = []
        messages: dict[str, Message] = {}
        # A target removed from the config is not reminded of forever.
        known = {t.name for t in self.config.targets()}
        for (name, target), state in sorted(self._states().items()):
            channel = self._channels.get(name)
            if channel is None or not channel.wants(target) or (known and target not in known):
                continue
            held = silenced_by(self.config.maintenance, target, name, now)
            decision = policy.tick(channel, state, target, now, held)
            if decision is None:
                continue
            row = _log_row(name, target, now, now, decision, state.told, None)
            logs.append(row)
            kind = "reminder" if decision.decision == policy.REMINDED else "alert"
            self._add(messages, channel, row, decision, now, kind=kind)
        return self._commit(logs, messages, now)

    def on_burn(self, found: Sequence[tuple[str, Page]]) -> int:
        """Alert the channels that take each target's SLO alerts of a rule firing now
        (`monitor.read.slo.burning`: pages, and tickets when a channel takes them), once per
        burn, and tell the same channels when it is over. Each burn is a row of
        `monitor.store.slo_burns`, written with its messages in one transaction, so a restart
        during a burn neither alerts again nor forgets the "resolved". Through the outbox like
        any alert; returns how many messages were queued."""
        if not self._channels:
            return 0
        now = self.clock()
        firing = {(target, page.objective.kind, page.severity): page for target, page in found}
        opened = slo_burns.open_burns(self.store)
        configured = {
            (target, objective.kind): objective.label
            for target, objs in with_slo(self.config).items()
            for objective in objs
        }
        messages: list[Message] = []
        new_rows: list[slo_burns.SloBurnRow] = []
        ended: list[int] = []
        if not self._burns_checked:
            # The first pass of this process: say which burns a previous one had alerted on.
            self._burns_checked = True
            kept = [key for key in opened if key in firing]
            if kept:
                log.info(
                    "alerts: %d SLO burn alert(s) still open from before (not sent again): %s",
                    len(kept),
                    ", ".join(f"{t} {kind} {severity}" for t, kind, severity in sorted(kept)),
                )
        for key, row in sorted(opened.items()):
            if key in firing:
                continue
            assert row.id is not None
            ended.append(row.id)
            target, kind, severity = key
            label = configured.get((target, kind))
            if label is None:
                continue  # the objective is gone from the config: nothing to resolve for
            event = resolved_event(target, label, severity, row.started_at, now)
            for name in row.told():
                channel = self._channels.get(name)
                if channel is None or silenced_by(self.config.maintenance, target, name, now):
                    continue
                messages.append(self._slo_message(name, event, now))
        for key, page in sorted(firing.items(), key=lambda item: item[0]):
            if key in opened:
                continue
            target, kind, severity = key
            told = [
                c.name
                for c in self._channels.values()
                if severity in c.slo_alerts
                and c.wants(target)
                and not silenced_by(self.config.maintenance, target, c.name, now)
            ]
            event = burn_event(target, page, now)
            messages += [self._slo_message(name, event, now) for name in told]
            new_rows.append(
                slo_burns.SloBurnRow(
                    target=target,
                    objective=kind,
                    severity=severity,
                    label=page.objective.label,
                    started_at=now,
                    channels=json.dumps(told),
                    details=json.dumps(event["details"]),
                )
            )
        if new_rows or ended:
            slo_burns.commit(self.store, new_rows, ended, messages, now)
        if messages:
            log.info("alerts: %d SLO burn message(s)", len(messages))
        return len(messages)

    @property
    def slo_severities(self) -> tuple[str, ...]:
        """The SLO alerts some channel takes (`slo_alerts`): what `on_burn` needs found."""
        taken = {s for c in self._channels.values() for s in c.slo_alerts}
        return tuple(s for s in (PAGE, TICKET) if s in taken)

    def _slo_message(self, channel: str, event: dict[str, Any], now: datetime) -> Message:
        return Message(
            channel=channel,
            addresses=self._addresses[channel],
            events=[event],
            due_at=now,
            kind="slo",
            groupable=False,
        )

    async def deliver_due(self) -> int:
        """Send the outbox rows that are due (see `monitor.alerts.delivery`). Never raises.
        Returns how many were delivered."""
        return await self._deliverer.deliver_due()

    def _states(self, targets: Sequence[str] | None = None) -> dict[Pair, PairState]:
        return {
            pair: PairState.load(row.told, row.actual, row.state)
            for pair, row in outbox.latest_states(self.store, targets).items()
        }

    def _add(
        self,
        messages: dict[str, Message],
        channel: AlertChannel,
        row: AlertLogRow,
        decision: Decision,
        now: datetime,
        *,
        kind: str,
    ) -> None:
        if decision.event is None:
            return
        key = f"{channel.name}\0{kind}"
        if key not in messages:
            wait = channel.group_wait if kind == "alert" else 0.0
            messages[key] = Message(
                channel=channel.name,
                addresses=self._addresses[channel.name],
                events=[],
                due_at=now + timedelta(seconds=wait),
                kind=kind,
                groupable=kind == "alert" and wait > 0,
            )
        event = decision.event
        if event["kind"] in (PROBLEM, REMINDER) and event["new"] in policy.PROBLEMS:
            event = {**event, "switch": self._switch(event["target"], now)}
        messages[key].events.append(event)
        messages[key].logs.append(row)

    def _switch(self, target: str, now: datetime) -> dict[str, Any] | None:
        """Where to switch `target`'s traffic now (`monitor.route.switch_for`), once per target
        per pass; None when the switch cannot be read (the alert goes out without it)."""
        if target not in self._switches:
            try:
                self._switches[target] = switch_for(
                    self.store, self.config, target, now=now
                ).to_dict()
            except BrownoutError as exc:
                log.warning("alerts: no switch advice for %s: %s", target, exc)
                self._switches[target] = None
        return self._switches[target]

    def _commit(self, logs: list[AlertLogRow], messages: dict[str, Message], now: datetime) -> int:
        if logs:
            outbox.commit(self.store, logs, list(messages.values()), now)
        counts: dict[str, int] = defaultdict(int)
        for row in logs:
            counts[row.decision] += 1
        if logs:
            log.info("alerts: %s", ", ".join(f"{n} {d}" for d, n in sorted(counts.items())))
        return sum(len(m.events) for m in messages.values())


def _log_row(
    channel: str,
    target: str,
    now: datetime,
    ts: datetime,
    decision: Decision,
    old: str,
    t: Transition | None,
) -> AlertLogRow:
    state = decision.state
    return AlertLogRow(
        recorded_at=now,
        ts=ts,
        channel=channel,
        target=target,
        old=old,
        new=t.new.value if t else state.actual,
        reasons=json.dumps(list(t.reasons) if t else state.reasons),
        details=json.dumps(t.details if t else state.details, default=str),
        decision=decision.decision,
        note=decision.note,
        told=state.told,
        actual=state.actual,
        state=state.to_json(),
    )
