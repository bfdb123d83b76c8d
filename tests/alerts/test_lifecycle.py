"""An incident's life as people on a channel see it: Apprise delivering to loopback receivers."""

from __future__ import annotations

from pathlib import Path

from monitor.alerts.service import AlertService
from monitor.store import Store, outbox
from tests.alerts.conftest import Clock, HttpReceiver, SmtpReceiver, channel
from tests.factories import config_file, flip

LATENCY = {"latency": {"value_ms": 2400, "baseline_ms": 800, "ratio": 3.0}}


async def test_degraded_then_down_then_recovered_arrive_in_order_with_the_duration(
    tmp_path: Path, store: Store, clock: Clock, receiver: HttpReceiver
) -> None:
    config = config_file(
        tmp_path,
        {
            "alerts": [channel("oncall", receiver.url())],
            "dashboard": {"url": "https://status.example.com"},
        },
    )
    service = AlertService(store, config, clock)

    service.on_transitions(
        [flip(clock(), "operational", "degraded", "openai/gpt-4o-mini", ["latency"], LATENCY)]
    )
    await service.deliver_due()
    clock.advance(minutes=5)
    service.on_transitions([flip(clock(), "degraded", "down", "openai/gpt-4o-mini", ["errors"])])
    await service.deliver_due()
    clock.advance(minutes=15)
    service.on_transitions([flip(clock(), "down", "operational", "openai/gpt-4o-mini")])
    await service.deliver_due()

    assert receiver.titles == [
        "openai/gpt-4o-mini is degraded",
        "openai/gpt-4o-mini is now down",
        "openai/gpt-4o-mini has recovered",
    ]
    degraded, down, recovered = (m["message"] for m in receiver.received)
    assert "total latency: 2400 ms against a baseline of 800 ms (3.0×)" in degraded
    assert "since 2026-11-28 10:00:00 UTC" in degraded
    assert "Status page: https://status.example.com" in degraded
    assert "The incident began 2026-11-28 10:00:00 UTC" in down
    assert "The incident lasted 20m" in recovered
    assert "at worst it was down" in recovered
    assert [m["type"] for m in receiver.received] == ["warning", "failure", "success"]


async def test_an_email_channel_gets_the_alert_over_smtp(
    tmp_path: Path, store: Store, clock: Clock, smtp: SmtpReceiver
) -> None:
    config = config_file(tmp_path, {"alerts": [channel("mail", smtp.url())]})
    service = AlertService(store, config, clock)

    service.on_transitions(
        [flip(clock(), "operational", "down", "anthropic/claude-haiku-4-5", ["errors"])]
    )
    delivered = await service.deliver_due()

    assert delivered == 1
    [mail] = smtp.messages
    assert mail["Subject"] == "anthropic/claude-haiku-4-5 is down"
    assert mail["To"] == "oncall@example.com"


async def test_a_receiver_that_is_down_and_comes_back_gets_every_alert_exactly_once(
    tmp_path: Path, any_store: Store, clock: Clock, receiver: HttpReceiver
) -> None:
    store = any_store
    config = config_file(tmp_path, {"alerts": [channel("oncall", receiver.url())]})
    service = AlertService(store, config, clock)
    receiver.up = False

    service.on_transitions([flip(clock(), "operational", "degraded", "openai/gpt-4o-mini")])
    assert await service.deliver_due() == 0
    clock.advance(minutes=1)
    service.on_transitions([flip(clock(), "operational", "down", "gemini/gemini-2.5-flash")])
    for _ in range(3):  # failing, retried with backoff; the later alert waits behind the first
        clock.advance(minutes=5)
        assert await service.deliver_due() == 0
    [first, second] = outbox.all_rows(store)
    assert first.status == "pending" and first.attempts == 4
    assert first.last_error and "503" in first.last_error
    assert second.attempts == 0

    receiver.up = True
    clock.advance(hours=1)
    assert await service.deliver_due() == 2
    clock.advance(hours=1)
    assert await service.deliver_due() == 0

    assert receiver.titles == ["openai/gpt-4o-mini is degraded", "gemini/gemini-2.5-flash is down"]
    assert receiver.refused == 4
    assert [r.status for r in outbox.all_rows(store)] == ["delivered", "delivered"]


async def test_a_new_service_over_the_same_database_delivers_what_was_pending(
    tmp_path: Path, db_url: str, clock: Clock, receiver: HttpReceiver
) -> None:
    from monitor.store import open_store

    config = config_file(tmp_path, {"alerts": [channel("oncall", receiver.url())]})
    before = open_store(db_url)
    AlertService(before, config, clock).on_transitions(
        [flip(clock(), "operational", "down", "openai/gpt-4o-mini")]
    )
    before.close()  # the monitor stops before sending
    assert receiver.received == []  # deciding never touches the network

    after = open_store(db_url)
    try:
        restarted = AlertService(after, config, clock)
        assert await restarted.deliver_due() == 1
        assert await restarted.deliver_due() == 0
        # Detection starts from unknown after a restart: the channel already knows it is down.
        restarted.on_transitions([flip(clock(), "unknown", "down", "openai/gpt-4o-mini")])
        assert await restarted.deliver_due() == 0
    finally:
        after.close()
    assert receiver.titles == ["openai/gpt-4o-mini is down"]


async def test_a_send_interrupted_by_a_crash_is_sent_again_after_the_lease_marked_as_a_repeat(
    tmp_path: Path, store: Store, clock: Clock, receiver: HttpReceiver
) -> None:
    config = config_file(tmp_path, {"alerts": [channel("oncall", receiver.url())]})
    service = AlertService(store, config, clock)
    service.on_transitions([flip(clock(), "operational", "down", "openai/gpt-4o-mini")])
    [row] = outbox.due(store, clock(), service._deliverer.lease)
    assert outbox.claim(store, row, clock()) is not None  # claimed, then the process died

    assert await AlertService(store, config, clock).deliver_due() == 0  # still within the lease
    clock.advance(minutes=11)
    assert await AlertService(store, config, clock).deliver_due() == 1

    [message] = receiver.received
    assert "may be a repeat" in message["message"]
    assert outbox.all_rows(store)[0].resent


async def test_a_destination_apprise_cannot_use_fails_at_once_and_others_still_deliver(
    tmp_path: Path, store: Store, clock: Clock, receiver: HttpReceiver
) -> None:
    config = config_file(
        tmp_path, {"alerts": [channel("oncall", "nosuchservice://token@x", receiver.url())]}
    )
    service = AlertService(store, config, clock)
    service.on_transitions([flip(clock(), "operational", "down", "openai/gpt-4o-mini")])

    assert await service.deliver_due() == 1

    bad, good = outbox.all_rows(store)
    assert (bad.status, bad.attempts, good.status) == ("failed", 1, "delivered")
    assert bad.last_error == "Apprise does not understand this URL"
    assert len(receiver.received) == 1


async def test_a_destination_that_keeps_failing_is_given_up_after_the_last_attempt(
    tmp_path: Path, store: Store, clock: Clock, receiver: HttpReceiver
) -> None:
    config = config_file(tmp_path, {"alerts": [channel("oncall", receiver.url())]})
    service = AlertService(store, config, clock, max_attempts=3)
    receiver.up = False
    service.on_transitions([flip(clock(), "operational", "down", "openai/gpt-4o-mini")])

    for _ in range(5):
        await service.deliver_due()
        clock.advance(hours=2)

    [row] = outbox.all_rows(store)
    assert (row.status, row.attempts, receiver.refused) == ("failed", 3, 3)


async def test_two_monitors_sharing_a_database_send_each_message_once(
    tmp_path: Path, any_store: Store, clock: Clock, receiver: HttpReceiver
) -> None:
    import asyncio

    config = config_file(tmp_path, {"alerts": [channel("oncall", receiver.url(), cooldown=0)]})
    first, second = AlertService(any_store, config, clock), AlertService(any_store, config, clock)
    targets = [f"openai/model-{i}" for i in range(8)]
    for target in targets:
        first.on_transitions([flip(clock(), "operational", "down", target)])
        clock.advance(seconds=1)

    counts = await asyncio.gather(first.deliver_due(), second.deliver_due())

    assert sum(counts) == len(targets)
    assert receiver.titles == [f"{target} is down" for target in targets]


async def test_a_form_webhook_gets_the_alert_as_form_fields(
    tmp_path: Path, store: Store, clock: Clock, receiver: HttpReceiver
) -> None:
    config = config_file(tmp_path, {"alerts": [channel("hook", receiver.url(scheme="form"))]})
    service = AlertService(store, config, clock)

    service.on_transitions([flip(clock(), "operational", "degraded", "gemini/gemini-2.5-flash")])
    await service.deliver_due()

    [form] = receiver.received
    assert (form["title"], form["type"]) == ("gemini/gemini-2.5-flash is degraded", "warning")
    assert form["message"].startswith("gemini/gemini-2.5-flash is degraded since")
