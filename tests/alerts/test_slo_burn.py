"""SLO burn-rate pages through the outbox to a real Apprise receiver on loopback."""

from __future__ import annotations

from pathlib import Path

from monitor.alerts.service import AlertService
from monitor.read.slo import burning
from monitor.store import Store
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

    # The burn stops (the short windows are clean), then starts again: a second page.
    clock.advance(minutes=40)
    seed(store, burning_hour(clock(), fail_every=0, minutes=40))
    assert service.on_burn(burning(store, config, clock())) == 0
    clock.advance(minutes=10)
    seed(store, burning_hour(clock(), fail_every=2, minutes=10))
    assert service.on_burn(burning(store, config, clock())) == 1
    await service.deliver_due()
    assert len(receiver.titles) == 2


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
