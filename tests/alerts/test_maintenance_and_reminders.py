"""Quiet times (maintenance windows, silences) record everything and send nothing; reminders
repeat an open incident."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from monitor.alerts.service import AlertService
from monitor.store import Store, outbox
from tests.alerts.conftest import T0, Clock, HttpReceiver, channel
from tests.factories import config_file, flip

TARGET = "openai/gpt-4o-mini"


def service_for(
    tmp_path: Path,
    store: Store,
    clock: Clock,
    receiver: HttpReceiver,
    *,
    windows: Any = (),
    **ch: Any,
) -> AlertService:
    data = {"alerts": [channel("oncall", receiver.url(), **ch)], "maintenance": list(windows)}
    return AlertService(store, config_file(tmp_path, data), clock)


def fixed_window(minutes: int, **extra: Any) -> dict[str, Any]:
    return {
        "name": "provider migration",
        "targets": ["openai"],
        "start": T0.isoformat(),
        "end": (T0 + timedelta(minutes=minutes)).isoformat(),
        **extra,
    }


async def test_nothing_is_sent_during_a_maintenance_window_but_everything_is_recorded(
    tmp_path: Path, store: Store, clock: Clock, receiver: HttpReceiver
) -> None:
    service = service_for(tmp_path, store, clock, receiver, windows=[fixed_window(60)])

    service.on_transitions([flip(clock(), "operational", "down", TARGET, ["errors"])])
    clock.advance(minutes=20)
    service.on_transitions([flip(clock(), "down", "operational", TARGET)])
    service.remind()
    await service.deliver_due()

    assert receiver.received == []
    rows = outbox.log_rows(store)
    assert [(r.new, r.decision, r.note) for r in rows] == [
        ("down", "silenced", "maintenance: provider migration"),
        ("operational", "ignored", "the channel was not told of a problem"),
    ]


async def test_a_window_for_one_provider_leaves_the_others_alone(
    tmp_path: Path, store: Store, clock: Clock, receiver: HttpReceiver
) -> None:
    service = service_for(tmp_path, store, clock, receiver, windows=[fixed_window(60)])

    service.on_transitions(
        [
            flip(clock(), "operational", "down", TARGET),
            flip(clock(), "operational", "down", "anthropic/claude-haiku-4-5"),
        ]
    )
    await service.deliver_due()

    assert receiver.titles == ["anthropic/claude-haiku-4-5 is down"]


async def test_a_target_still_down_when_the_window_ends_is_announced_then(
    tmp_path: Path, store: Store, clock: Clock, receiver: HttpReceiver
) -> None:
    service = service_for(tmp_path, store, clock, receiver, windows=[fixed_window(30)])
    service.on_transitions([flip(clock(), "operational", "down", TARGET, ["errors"])])

    clock.advance(minutes=29)
    assert service.remind() == 0
    clock.advance(minutes=2)
    assert service.remind() == 1
    await service.deliver_due()

    assert receiver.titles == [f"{TARGET} is down"]
    assert "since 2026-11-28 10:00:00 UTC" in receiver.received[0]["message"]


async def test_a_recovery_during_a_window_is_announced_when_it_ends(
    tmp_path: Path, store: Store, clock: Clock, receiver: HttpReceiver
) -> None:
    window = fixed_window(60) | {"start": (T0 + timedelta(minutes=10)).isoformat()}
    service = service_for(tmp_path, store, clock, receiver, windows=[window])
    service.on_transitions([flip(clock(), "operational", "down", TARGET)])
    await service.deliver_due()
    clock.advance(minutes=15)
    service.on_transitions([flip(clock(), "down", "operational", TARGET)])
    await service.deliver_due()
    assert receiver.titles == [f"{TARGET} is down"]

    clock.advance(hours=1)
    service.remind()
    await service.deliver_due()

    assert receiver.titles == [f"{TARGET} is down", f"{TARGET} has recovered"]
    assert "The incident lasted 15m" in receiver.received[1]["message"]


@pytest.mark.parametrize(
    ("minutes_after_t0", "silenced"),
    [(0, False), (3 * 60 - 1, False), (3 * 60, True), (3 * 60 + 19, True), (3 * 60 + 20, False)],
)
async def test_a_recurring_window_holds_alerts_back_each_day(
    tmp_path: Path,
    store: Store,
    clock: Clock,
    receiver: HttpReceiver,
    minutes_after_t0: int,
    silenced: bool,
) -> None:
    nightly = {
        "name": "nightly restart",
        "targets": ["openai/*"],
        "cron": "0 13 * * *",
        "duration": "20m",
    }
    service = service_for(tmp_path, store, clock, receiver, windows=[nightly])
    clock.advance(minutes=minutes_after_t0)  # T0 is 10:00; the window is 13:00–13:20

    service.on_transitions([flip(clock(), "operational", "down", TARGET)])
    await service.deliver_due()

    assert len(receiver.received) == (0 if silenced else 1)


async def test_a_silence_on_one_channel_keeps_the_others_informed(
    tmp_path: Path, store: Store, clock: Clock, receiver: HttpReceiver
) -> None:
    silence = {"channels": ["chat"], "end": (T0 + timedelta(hours=2)).isoformat()}
    config = config_file(
        tmp_path,
        {
            "alerts": [
                channel("chat", receiver.url("chat")),
                channel("pager", receiver.url("pager")),
            ],
            "maintenance": [silence],
        },
    )
    service = AlertService(store, config, clock)

    service.on_transitions([flip(clock(), "operational", "down", TARGET)])
    await service.deliver_due()

    assert len(receiver.received) == 1
    assert {r.channel: r.decision for r in outbox.log_rows(store)} == {
        "chat": "silenced",
        "pager": "queued",
    }


async def test_an_open_incident_is_repeated_every_remind_every_and_stops_when_it_recovers(
    tmp_path: Path, store: Store, clock: Clock, receiver: HttpReceiver
) -> None:
    service = service_for(tmp_path, store, clock, receiver, remind_every="1h")
    service.on_transitions([flip(clock(), "operational", "down", TARGET, ["errors"])])
    await service.deliver_due()

    for _ in range(6):  # the monitor calls remind() every ten minutes
        clock.advance(minutes=10)
        service.remind()
        await service.deliver_due()
    clock.advance(minutes=5)
    service.on_transitions([flip(clock(), "down", "operational", TARGET)])
    for _ in range(12):
        clock.advance(minutes=10)
        service.remind()
        await service.deliver_due()

    assert receiver.titles == [
        f"{TARGET} is down",
        f"Still down: {TARGET}",
        f"{TARGET} has recovered",
    ]
    assert "still down after 1h" in receiver.received[1]["message"]


async def test_reminders_for_many_open_incidents_are_one_digest(
    tmp_path: Path, store: Store, clock: Clock, receiver: HttpReceiver
) -> None:
    service = service_for(tmp_path, store, clock, receiver, remind_every="30m")
    service.on_transitions(
        [flip(clock(), "operational", "degraded", f"openai/model-{i}") for i in range(5)]
    )
    await service.deliver_due()

    clock.advance(minutes=30)
    assert service.remind() == 5
    await service.deliver_due()

    assert receiver.titles[-1] == "Still open: 5 incidents (5 degraded)"
    assert len(receiver.received) == 2
