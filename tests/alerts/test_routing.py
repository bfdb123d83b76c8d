"""Who hears what: filters, no start-up noise, cooldown, grouping into one fleet-wide message."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from monitor.alerts.service import AlertService
from monitor.store import Store, outbox
from tests.alerts.conftest import Clock, HttpReceiver, channel
from tests.factories import config_file, flip


def service_for(
    tmp_path: Path, store: Store, clock: Clock, *channels: dict[str, Any], **extra: Any
) -> AlertService:
    return AlertService(store, config_file(tmp_path, {"alerts": list(channels), **extra}), clock)


async def test_start_up_from_unknown_to_operational_sends_nothing(
    tmp_path: Path, store: Store, clock: Clock, receiver: HttpReceiver
) -> None:
    service = service_for(tmp_path, store, clock, channel("oncall", receiver.url()))
    targets = ["openai/gpt-4o-mini", "anthropic/claude-haiku-4-5", "gemini/gemini-2.5-flash"]

    queued = service.on_transitions([flip(clock(), "unknown", "operational", t) for t in targets])
    await service.deliver_due()

    assert queued == 0
    assert receiver.received == []
    assert {r.decision for r in outbox.log_rows(store)} == {"ignored"}


async def test_a_target_already_down_at_start_up_is_announced(
    tmp_path: Path, store: Store, clock: Clock, receiver: HttpReceiver
) -> None:
    service = service_for(tmp_path, store, clock, channel("oncall", receiver.url()))

    service.on_transitions([flip(clock(), "unknown", "down", "openai/gpt-4o-mini", ["errors"])])
    await service.deliver_due()

    assert receiver.titles == ["openai/gpt-4o-mini is down"]


async def test_going_stale_is_not_an_alert(
    tmp_path: Path, store: Store, clock: Clock, receiver: HttpReceiver
) -> None:
    service = service_for(tmp_path, store, clock, channel("oncall", receiver.url()))

    assert (
        service.on_transitions([flip(clock(), "operational", "unknown", "openai/gpt-4o-mini")]) == 0
    )
    assert receiver.received == []


@pytest.mark.parametrize(
    ("filters", "target", "new", "heard"),
    [
        ({}, "openai/gpt-4o-mini", "degraded", True),
        ({"targets": ["openai/*"]}, "openai/gpt-4o-mini", "degraded", True),
        ({"targets": ["openai/*"]}, "anthropic/claude-haiku-4-5", "degraded", False),
        ({"targets": ["anthropic"]}, "anthropic/claude-haiku-4-5", "down", True),
        ({"targets": ["*/gpt-4o*"]}, "openrouter/gpt-4o", "down", True),
        ({"providers": ["open*"]}, "openrouter/llama", "down", True),
        ({"providers": ["gemini"]}, "openai/gpt-4o-mini", "down", False),
        ({"severities": ["down"]}, "openai/gpt-4o-mini", "degraded", False),
        ({"severities": ["down"]}, "openai/gpt-4o-mini", "down", True),
        ({"severities": ["degraded", "recovered"]}, "openai/gpt-4o-mini", "down", False),
    ],
)
async def test_a_channel_hears_only_what_its_filter_lets_through(
    tmp_path: Path,
    store: Store,
    clock: Clock,
    receiver: HttpReceiver,
    filters: dict[str, Any],
    target: str,
    new: str,
    heard: bool,
) -> None:
    service = service_for(tmp_path, store, clock, channel("oncall", receiver.url(), **filters))

    service.on_transitions([flip(clock(), "operational", new, target)])
    await service.deliver_due()

    assert len(receiver.received) == (1 if heard else 0)


async def test_each_channel_gets_its_own_share(
    tmp_path: Path, store: Store, clock: Clock, receiver: HttpReceiver
) -> None:
    service = service_for(
        tmp_path,
        store,
        clock,
        channel("pager", receiver.url("pager"), severities=["down", "recovered"]),
        channel("chat", receiver.url("chat")),
    )
    target = "openai/gpt-4o-mini"

    for old, new in [("operational", "degraded"), ("degraded", "down"), ("down", "operational")]:
        service.on_transitions([flip(clock(), old, new, target)])
        await service.deliver_due()
        clock.advance(minutes=5)

    assert receiver.titles == [
        f"{target} is degraded",  # chat
        f"{target} is down",  # pager: it never heard of the degraded step
        f"{target} is now down",  # chat
        f"{target} has recovered",
        f"{target} has recovered",
    ]


async def test_a_recovery_is_not_sent_to_a_channel_that_never_heard_of_the_problem(
    tmp_path: Path, store: Store, clock: Clock, receiver: HttpReceiver
) -> None:
    service = service_for(
        tmp_path, store, clock, channel("pager", receiver.url(), severities=["down", "recovered"])
    )

    service.on_transitions([flip(clock(), "operational", "degraded", "openai/gpt-4o-mini")])
    clock.advance(minutes=5)
    service.on_transitions([flip(clock(), "degraded", "operational", "openai/gpt-4o-mini")])
    await service.deliver_due()

    assert receiver.received == []


async def test_a_flapping_target_is_announced_once_per_cooldown(
    tmp_path: Path, store: Store, clock: Clock, receiver: HttpReceiver
) -> None:
    service = service_for(tmp_path, store, clock, channel("oncall", receiver.url(), cooldown="15m"))
    target = "openai/gpt-4o-mini"

    for _ in range(5):  # degraded for a minute, fine for a minute, five times
        service.on_transitions([flip(clock(), "operational", "degraded", target)])
        clock.advance(minutes=1)
        service.on_transitions([flip(clock(), "degraded", "operational", target)])
        clock.advance(minutes=1)
        await service.deliver_due()

    assert receiver.titles == [f"{target} is degraded", f"{target} has recovered"]
    decisions = [r.decision for r in outbox.log_rows(store)]
    assert decisions.count("cooldown") == 4


async def test_an_escalation_to_down_goes_through_the_cooldown(
    tmp_path: Path, store: Store, clock: Clock, receiver: HttpReceiver
) -> None:
    service = service_for(tmp_path, store, clock, channel("oncall", receiver.url(), cooldown="1h"))
    target = "openai/gpt-4o-mini"

    service.on_transitions([flip(clock(), "operational", "degraded", target)])
    clock.advance(minutes=1)
    service.on_transitions([flip(clock(), "degraded", "operational", target)])
    clock.advance(minutes=1)
    service.on_transitions([flip(clock(), "operational", "down", target)])
    await service.deliver_due()

    assert receiver.titles == [
        f"{target} is degraded",
        f"{target} has recovered",
        f"{target} is down",
    ]


async def test_a_problem_held_back_by_cooldown_is_announced_when_it_ends_if_still_there(
    tmp_path: Path, store: Store, clock: Clock, receiver: HttpReceiver
) -> None:
    service = service_for(tmp_path, store, clock, channel("oncall", receiver.url(), cooldown="10m"))
    target = "openai/gpt-4o-mini"
    service.on_transitions([flip(clock(), "operational", "degraded", target)])
    clock.advance(minutes=1)
    service.on_transitions([flip(clock(), "degraded", "operational", target)])
    clock.advance(minutes=1)
    service.on_transitions([flip(clock(), "operational", "degraded", target)])  # cooldown

    clock.advance(minutes=5)
    assert service.remind() == 0  # still cooling down
    clock.advance(minutes=5)
    assert service.remind() == 1
    await service.deliver_due()

    assert receiver.titles[-1] == f"{target} is degraded"
    assert "held back" in receiver.received[-1]["message"]
    assert len(receiver.received) == 3


async def test_a_fleet_wide_brownout_is_one_message(
    tmp_path: Path, store: Store, clock: Clock, receiver: HttpReceiver
) -> None:
    service = service_for(
        tmp_path, store, clock, channel("oncall", receiver.url(), group_wait="30s")
    )
    targets = [
        "openai/gpt-4o-mini",
        "openai/gpt-4o",
        "anthropic/claude-haiku-4-5",
        "gemini/gemini-2.5-flash",
        "openrouter/meta-llama/llama-3.3-70b-instruct",
    ]
    for i, target in enumerate(targets):  # detection reports them over a few passes
        service.on_transitions([flip(clock(), "operational", "degraded", target, ["latency"])])
        await service.deliver_due()
        clock.advance(seconds=5 + i)

    clock.advance(seconds=30)
    await service.deliver_due()

    [message] = receiver.received
    assert message["title"] == "Intelligence brownout: 4 providers degraded or down"
    for target in targets:
        assert f"- {target}: degraded since" in message["message"]


async def test_a_few_changes_of_one_provider_are_one_digest_not_a_brownout(
    tmp_path: Path, store: Store, clock: Clock, receiver: HttpReceiver
) -> None:
    service = service_for(
        tmp_path, store, clock, channel("oncall", receiver.url(), group_wait="1m")
    )

    service.on_transitions(
        [
            flip(clock(), "operational", "degraded", "openai/gpt-4o-mini"),
            flip(clock(), "operational", "down", "openai/gpt-4o"),
        ]
    )
    clock.advance(minutes=1)
    await service.deliver_due()

    assert receiver.titles == ["2 status changes: 1 degraded, 1 down"]


async def test_alerts_after_a_group_was_sent_start_a_new_message(
    tmp_path: Path, store: Store, clock: Clock, receiver: HttpReceiver
) -> None:
    service = service_for(
        tmp_path, store, clock, channel("oncall", receiver.url(), group_wait="30s")
    )

    service.on_transitions([flip(clock(), "operational", "degraded", "openai/gpt-4o-mini")])
    clock.advance(seconds=30)
    await service.deliver_due()
    service.on_transitions([flip(clock(), "operational", "down", "gemini/gemini-2.5-flash")])
    clock.advance(seconds=30)
    await service.deliver_due()

    assert receiver.titles == ["openai/gpt-4o-mini is degraded", "gemini/gemini-2.5-flash is down"]
