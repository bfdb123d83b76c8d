"""Destinations, masking of secrets, `brownout notify-test` and the delivery history lines."""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path

import pytest
import yaml

from monitor.alerts import history
from monitor.alerts.channels import Destination, mask_url
from monitor.alerts.service import AlertService
from monitor.cli import main
from monitor.store import Store
from tests.alerts.conftest import Clock, HttpReceiver, SmtpReceiver, channel
from tests.factories import config_file, flip

SECRET = "xoxb-9f8e7d6c5b4a"
SLACK = "TIiajkdnlazkcOXrIdevi7FQ"


@pytest.mark.parametrize(
    ("url", "shown", "secret"),
    [
        (f"json://bot:{SECRET}@127.0.0.1:9000/hook", "json://bot:****@127.0.0.1:9000/…", SECRET),
        (f"json://127.0.0.1:9000/hooks/{SECRET}", "json://127.0.0.1:9000/…", SECRET),
        (f"slack://T1JJ3T3L2/A1BRTD4JD/{SLACK}", "slack://T...2/…", SLACK),
        (f"slack://T1JJ3T3L2/A1BRTD4JD/{SECRET}", "slack://****/…", SECRET),  # not a valid token
        (
            f"mailto://me:{SECRET}@example.com?to=a@example.com",
            "mailto://me:****@example.com/…",
            SECRET,
        ),
        (f"nosuchservice://{SECRET}/x", "nosuchservice://****/…", SECRET),
    ],
)
def test_an_address_is_shown_without_its_secrets(url: str, shown: str, secret: str) -> None:
    assert mask_url(url) == shown
    assert secret not in mask_url(url)


def test_an_error_text_never_carries_the_urls_secret_parts() -> None:
    dest = Destination("oncall", 0, url=f"json://bot:{SECRET}@127.0.0.1:9000/hooks/tok-{SECRET}")

    scrubbed = dest.scrub(f"POST http://bot:{SECRET}@127.0.0.1:9000/hooks/tok-{SECRET} refused")

    assert SECRET not in scrubbed
    assert "refused" in scrubbed


def test_notify_test_reports_each_channel_and_fails_when_one_is_not_delivered(
    tmp_path: Path,
    receiver: HttpReceiver,
    smtp: SmtpReceiver,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = tmp_path / "probes.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "alerts": [
                    channel("chat", f"json://bot:{SECRET}@127.0.0.1:{receiver.port}/hook"),
                    channel("mail", smtp.url()),
                    channel("broken", "json://127.0.0.1:9/nothing-listens-here"),
                ]
            }
        ),
        encoding="utf-8",
    )

    code = main(["notify-test", "--config", str(path)])

    out = capsys.readouterr().out.splitlines()
    assert code == 1
    assert out[0] == f"chat: delivered to json://bot:****@127.0.0.1:{receiver.port}/…"
    assert out[1] == f"mail: delivered to mailto://127.0.0.1:{smtp.port}/…"
    assert out[2].startswith("broken: NOT delivered to json://127.0.0.1:9/…: ")
    assert SECRET not in "\n".join(out)
    assert receiver.titles == ["brownout test message for chat"]
    assert smtp.messages[0]["Subject"] == "brownout test message for mail"


def test_notify_test_passes_when_every_channel_is_delivered(
    tmp_path: Path, receiver: HttpReceiver, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "probes.yaml"
    path.write_text(yaml.safe_dump({"alerts": [channel("chat", receiver.url())]}), encoding="utf-8")

    assert main(["notify-test", "--config", str(path)]) == 0
    assert capsys.readouterr().out.startswith("chat: delivered")


def test_notify_test_without_channels_is_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "probes.yaml"
    path.write_text("alerts: []\n", encoding="utf-8")

    assert main(["notify-test", "--config", str(path)]) == 2
    assert "no alert channels" in capsys.readouterr().err


async def test_the_delivery_history_shows_what_went_where_with_secrets_masked(
    tmp_path: Path, store: Store, clock: Clock, receiver: HttpReceiver
) -> None:
    good = f"json://bot:{SECRET}@127.0.0.1:{receiver.port}/hook"
    config = config_file(tmp_path, {"alerts": [channel("oncall", good, "json://127.0.0.1:9/x")]})
    service = AlertService(store, config, clock)
    service.on_transitions([flip(clock(), "operational", "down", "openai/gpt-4o-mini")])
    await service.deliver_due()

    lines = history.delivery_lines(store, limit=10)

    assert len(lines) == 2
    refused, delivered = lines
    assert delivered == (
        f"2026-11-28 10:00:00 UTC  delivered              oncall → "
        f"json://bot:****@127.0.0.1:{receiver.port}/…  openai/gpt-4o-mini is down"
    )
    assert "retry 2 at 10:00:30" in refused
    assert "oncall → json://127.0.0.1:9/…  openai/gpt-4o-mini is down: " in refused
    assert SECRET not in "\n".join(lines)
    assert history.summary(store) == "alerts: 1 delivered, 1 pending, 0 failed"
    value = history.section(store, config)
    assert value is not None
    assert [e["status"] for e in value["recent"]] == ["pending", "delivered"]
    assert history.render_section(value) == [
        "alerts (1 channel(s)): 1 delivered, 1 pending, 0 failed",
        f"  {refused}",
        f"  {delivered}",
    ]


def test_the_status_section_is_left_out_when_alerts_are_not_used(
    tmp_path: Path, store: Store
) -> None:
    assert history.section(store, config_file(tmp_path, {})) is None


async def test_an_apprise_config_file_delivers_to_the_services_its_tags_select(
    tmp_path: Path, store: Store, clock: Clock, receiver: HttpReceiver
) -> None:
    apprise_file = tmp_path / "apprise.yml"
    apprise_file.write_text(
        yaml.safe_dump(
            {
                "urls": [
                    {receiver.url("llm-team"): [{"tag": "llm"}]},
                    {receiver.url("billing"): [{"tag": "billing"}]},
                ]
            }
        ),
        encoding="utf-8",
    )
    team = {"name": "team", "config": [str(apprise_file)], "tags": ["llm"], "group_wait": 0}
    service = AlertService(store, config_file(tmp_path, {"alerts": [team]}), clock)

    service.on_transitions([flip(clock(), "operational", "down", "openai/gpt-4o-mini")])
    assert await service.deliver_due() == 1

    assert receiver.paths == ["/llm-team"]
    assert f"team → config {apprise_file} tags llm  " in history.delivery_lines(store)[0]


async def test_brownout_status_shows_the_recent_deliveries(
    tmp_path: Path,
    sqlite_url: str,
    clock: Clock,
    receiver: HttpReceiver,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from monitor.store import open_store

    data = {"storage": {"url": sqlite_url}, "alerts": [channel("oncall", receiver.url())]}
    config = config_file(tmp_path, data)
    store = open_store(sqlite_url)
    try:
        service = AlertService(store, config, clock)
        service.on_transitions([flip(clock(), "operational", "down", "openai/gpt-4o-mini")])
        await service.deliver_due()
    finally:
        store.close()

    assert main(["status", "--config", str(tmp_path / "probes.yaml")]) == 0

    out = capsys.readouterr().out
    assert "alerts (1 channel(s)): 1 delivered, 0 pending, 0 failed" in out
    assert f"oncall → json://127.0.0.1:{receiver.port}/…  openai/gpt-4o-mini is down" in out


def test_apprises_own_log_lines_never_carry_a_urls_secret(
    receiver: HttpReceiver, caplog: pytest.LogCaptureFixture
) -> None:
    from monitor.alerts import channels

    caplog.set_level(logging.DEBUG)
    for url in (f"json://127.0.0.1:{receiver.port}/{SECRET}", f"json://127.0.0.1:9/{SECRET}"):
        with contextlib.suppress(RuntimeError):  # the second has nobody listening
            channels.send(Destination("oncall", 0, url=url), "title", "body")

    assert len(receiver.received) == 1
    assert any(r.name == "apprise" for r in caplog.records)  # its warnings still come through
    assert SECRET not in caplog.text
