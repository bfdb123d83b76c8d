"""Every degraded or down alert says where to switch now (the transfer switch's answer), as
Apprise delivers it to a loopback receiver, over a real SQLite store."""

from __future__ import annotations

from datetime import timedelta

from monitor.alerts.service import AlertService
from monitor.result import utcnow
from monitor.store import Store
from tests.alerts.conftest import HttpReceiver, channel
from tests.factories import TARGETS, Seed, api_config, flip

# api_config's families: fast-small = openai + anthropic; all = those two and openrouter.
OPENAI, ANTHROPIC, OPENROUTER = TARGETS


async def test_a_degraded_alert_names_the_best_healthy_target_of_its_families(
    store: Store, seed: Seed, receiver: HttpReceiver
) -> None:
    seed(OPENAI, ["ok"] * 8)
    seed(OPENROUTER, ["ok", "timeout"] * 4)  # degraded: not healthy, so never the advice
    seed(ANTHROPIC, ["ok", "timeout", "timeout", "ok"])
    service = AlertService(store, api_config(alerts=[channel("oncall", receiver.url())]))

    service.on_transitions([flip(utcnow(), "operational", "degraded", ANTHROPIC, ["errors"])])
    await service.deliver_due()

    [message] = receiver.received
    assert (
        f"Switch to {OPENAI} now (the best healthy target of fast-small, all)."
        in message["message"]
    )


async def test_a_down_alert_says_no_healthy_alternative_when_every_other_member_is_in_trouble(
    store: Store, seed: Seed, receiver: HttpReceiver
) -> None:
    seed(OPENAI, ["overloaded"] * 8)  # down by the plain rule
    seed(OPENROUTER, ["ok", "timeout"] * 4)  # degraded
    service = AlertService(store, api_config(alerts=[channel("oncall", receiver.url())]))

    service.on_transitions([flip(utcnow(), "operational", "down", ANTHROPIC, ["errors"])])
    await service.deliver_due()

    [message] = receiver.received
    assert (
        "No healthy alternative (nothing else in fast-small, all is operational)."
        in message["message"]
    )


async def test_a_target_in_no_family_has_no_alternative_and_says_why(
    store: Store, seed: Seed, receiver: HttpReceiver
) -> None:
    seed(OPENAI, ["ok"] * 8)
    config = api_config(alerts=[channel("oncall", receiver.url())], families={})
    service = AlertService(store, config)

    service.on_transitions([flip(utcnow(), "operational", "down", ANTHROPIC, ["errors"])])
    await service.deliver_due()

    assert (
        f"No healthy alternative ({ANTHROPIC} is in no family of equivalent targets)."
        in receiver.received[0]["message"]
    )


async def test_every_line_of_a_digest_and_every_reminder_carries_its_switch(
    store: Store, seed: Seed, receiver: HttpReceiver
) -> None:
    seed(OPENROUTER, ["ok"] * 8)
    config = api_config(alerts=[channel("oncall", receiver.url(), remind_every="10m")])
    clock_at = [utcnow()]
    service = AlertService(store, config, lambda: clock_at[0])

    service.on_transitions(
        [
            flip(clock_at[0], "operational", "degraded", OPENAI, ["latency"]),
            flip(clock_at[0], "operational", "down", ANTHROPIC, ["errors"]),
        ]
    )
    await service.deliver_due()
    clock_at[0] += timedelta(minutes=11)
    seed(OPENROUTER, ["ok"] * 4, ago=-10)  # it kept answering: its last probe a minute ago
    service.remind()
    await service.deliver_due()

    digest, reminder = (m["message"] for m in receiver.received)
    lines = [line for line in digest.splitlines() if line.startswith("- ")]
    assert len(lines) == 2
    advice = f"; switch to {OPENROUTER} now (the best healthy target of fast-small, all)"
    assert all(line.endswith(advice) for line in lines), lines
    assert reminder.count(f"switch to {OPENROUTER} now") == 2


async def test_a_recovery_says_nothing_of_switching(
    store: Store, seed: Seed, receiver: HttpReceiver
) -> None:
    seed(OPENAI, ["ok"] * 8)
    service = AlertService(store, api_config(alerts=[channel("oncall", receiver.url())]))
    now = utcnow()

    service.on_transitions([flip(now, "operational", "down", ANTHROPIC, ["errors"])])
    await service.deliver_due()
    service.on_transitions([flip(now + timedelta(minutes=30), "down", "operational", ANTHROPIC)])
    await service.deliver_due()

    problem, recovery = (m["message"] for m in receiver.received)
    assert "Switch to" in problem
    assert "witch" not in recovery and "alternative" not in recovery
