"""SLO burn-rate pages through the outbox to a real Apprise receiver on loopback."""

from __future__ import annotations

from pathlib import Path

from monitor.alerts.service import AlertService
from monitor.read.slo import burning
from monitor.store import Store, slo_burns
from tests.alerts.conftest import Clock, HttpReceiver, channel
from tests.factories import burning_hour, seed, slo_config


async def test_a_fast_burn_pages_once_per_burn_with_its_windows_and_rates(
    tmp_path: Path, store: Store, clock: Clock, receiver: HttpReceiver
) -> None:
    config = slo_config(tmp_path, channel("oncall", receiver.url()))
    service = AlertService(store, config, clock)
    seed(store, burning_hour(clock(), fail_every=4))

    assert service.on_burn(burning(store, config, clock())) == 1
    await service.deliver_due()
    clock.advance(minutes=1)
    assert service.on_burn(burning(store, config, clock())) == 0  # the same burn: paged already
    await service.deliver_due()

    assert receiver.titles == [
        "openai/gpt-4o-mini is burning its error budget (availability 99.9%)"
    ]
    body = receiver.received[0]["message"]
    assert "over the last 1h" in body and "over the last 5m" in body
    assert "(pages at 14.4×)" in body
    assert receiver.received[0]["type"] == "warning"

    # The burn stops (the short windows are clean): "resolved"; then it starts again: a second
    # page.
    clock.advance(minutes=40)
    seed(store, burning_hour(clock(), fail_every=0, minutes=40))
    assert service.on_burn(burning(store, config, clock())) == 1
    await service.deliver_due()
    assert receiver.titles[-1] == (
        "Resolved: openai/gpt-4o-mini is no longer burning its error budget (availability 99.9%)"
    )
    assert receiver.received[-1]["type"] == "success"
    assert "the page was sent at 2026-11-28 10:00:00 UTC" in receiver.received[-1]["message"]
    assert service.on_burn(burning(store, config, clock())) == 0  # resolved once
    clock.advance(minutes=10)
    seed(store, burning_hour(clock(), fail_every=2, minutes=10))
    assert service.on_burn(burning(store, config, clock())) == 1
    await service.deliver_due()
    assert len(receiver.titles) == 3
    assert [(b.severity, b.ended_at is None) for b in slo_burns.all_burns(store)] == [
        ("page", False),
        ("page", True),
    ]


async def test_a_new_service_on_the_same_store_neither_pages_again_nor_forgets_the_resolved(
    tmp_path: Path, store: Store, clock: Clock, receiver: HttpReceiver
) -> None:
    config = slo_config(tmp_path, channel("oncall", receiver.url()))
    seed(store, burning_hour(clock(), fail_every=4))
    first = AlertService(store, config, clock)
    assert first.on_burn(burning(store, config, clock())) == 1
    await first.deliver_due()

    # What a restart does: a new service, nothing in memory, the same database.
    clock.advance(minutes=1)
    second = AlertService(store, config, clock)
    assert second.on_burn(burning(store, config, clock())) == 0
    clock.advance(minutes=40)
    seed(store, burning_hour(clock(), fail_every=0, minutes=40))
    third = AlertService(store, config, clock)
    assert third.on_burn(burning(store, config, clock())) == 1
    await third.deliver_due()
    assert [t.split(":")[0] for t in receiver.titles] == [
        "openai/gpt-4o-mini is burning its error budget (availability 99.9%)",
        "Resolved",
    ]


async def test_a_resolved_goes_only_to_the_channels_that_heard_the_page(
    tmp_path: Path, store: Store, clock: Clock, receiver: HttpReceiver
) -> None:
    paged = channel("oncall", receiver.url("oncall"))
    config = slo_config(tmp_path, paged)
    seed(store, burning_hour(clock(), fail_every=4))
    assert AlertService(store, config, clock).on_burn(burning(store, config, clock())) == 1
    # A channel added while the burn went on hears neither the page nor its end.
    later = slo_config(tmp_path, paged, channel("chat", receiver.url("chat")))
    clock.advance(minutes=40)
    seed(store, burning_hour(clock(), fail_every=0, minutes=40))
    service = AlertService(store, later, clock)
    assert service.on_burn(burning(store, later, clock())) == 1
    await service.deliver_due()
    assert receiver.paths == ["/oncall", "/oncall"]


async def test_the_ticket_rule_opens_a_ticket_on_the_channels_that_take_tickets_only(
    tmp_path: Path, store: Store, clock: Clock, receiver: HttpReceiver
) -> None:
    config = slo_config(
        tmp_path,
        channel("oncall", receiver.url("oncall")),
        channel("queue", receiver.url("queue"), slo_alerts=["ticket"]),
        slo="99%",
    )
    service = AlertService(store, config, clock)
    assert service.slo_severities == ("page", "ticket")
    # Three days with 1 in 50 failing: 2× a 99 % budget, far under the pages' 6× and 14.4×.
    seed(store, burning_hour(clock(), fail_every=50, minutes=3 * 1440))
    found = burning(store, config, clock(), service.slo_severities)
    assert [(t, p.severity, p.factor) for t, p in found] == [("openai/gpt-4o-mini", "ticket", 1.0)]
    assert burning(store, config, clock()) == []  # no page
    assert service.on_burn(found) == 1
    await service.deliver_due()
    assert receiver.paths == ["/queue"]
    assert receiver.titles == [
        "Ticket: openai/gpt-4o-mini is slowly burning its error budget (availability 99%)"
    ]
    assert receiver.received[0]["type"] == "info"
    assert "over the last 3d" in receiver.received[0]["message"]
    assert "(opens a ticket at 1×)" in receiver.received[0]["message"]


def test_no_channel_takes_tickets_unless_it_says_so(tmp_path: Path, store: Store) -> None:
    config = slo_config(tmp_path, channel("oncall", "json://127.0.0.1:9/hook"))
    assert AlertService(store, config).slo_severities == ("page",)
    off = slo_config(tmp_path, channel("oncall", "json://127.0.0.1:9/hook", slo_alerts=[]))
    assert AlertService(store, off).slo_severities == ()


async def test_a_target_without_an_slo_or_outside_a_channels_targets_is_not_paged(
    tmp_path: Path, store: Store, clock: Clock, receiver: HttpReceiver
) -> None:
    config = slo_config(
        tmp_path, channel("others", receiver.url(), targets=["other/*"]), slo="99.9%"
    )
    service = AlertService(store, config, clock)
    seed(store, burning_hour(clock(), fail_every=4))
    seed(store, burning_hour(clock(), "other/gpt-4o-mini", fail_every=4))
    assert service.on_burn(burning(store, config, clock())) == 0
    await service.deliver_due()
    assert receiver.received == []
