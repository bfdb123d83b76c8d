"""The `alerts:` and `maintenance:` sections: secrets from the environment, strict validation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from monitor.config import load_config
from monitor.config.alerts import MaintenanceWindow
from monitor.errors import ConfigError


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "probes.yaml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_a_channel_takes_its_secret_from_the_environment(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "alerts:\n"
        "  - name: oncall\n"
        "    urls: ['json://bot:${HOOK_TOKEN}@127.0.0.1:9000/hook']\n"
        "    severities: [down, recovered]\n"
        "    cooldown: 10m\n"
        "    remind_every: 2h\n",
    )

    [channel] = load_config(path, env={"HOOK_TOKEN": "s3cr3t-token"}).alerts

    assert channel.urls == ["json://bot:s3cr3t-token@127.0.0.1:9000/hook"]
    assert (channel.severities, channel.cooldown, channel.remind_every) == (
        ["down", "recovered"],
        600.0,
        7200.0,
    )


def test_a_channel_whose_secret_is_not_set_is_skipped_with_a_warning(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "alerts:\n"
        "  - name: oncall\n"
        "    urls: ['slack://${SLACK_TOKEN}']\n"
        "  - name: mail\n"
        "    urls: ['mailto://127.0.0.1:2525?to=a@example.com']\n",
    )

    config = load_config(path, env={})

    assert [c.name for c in config.alerts] == ["mail"]
    assert config.warnings == [f"{path}:3: alert channel #1 skipped: SLACK_TOKEN is not set"]


@pytest.mark.parametrize(
    ("section", "problem"),
    [
        ("alerts:\n  - name: x\n    urls: [json://h/x]\n    colour: red\n", "unknown key 'colour'"),
        ("alerts:\n  - name: x\n    urls: [json://h/x]\n    severities: [sad]\n", "severities.0"),
        ("alerts:\n  - name: x\n", "needs urls or config"),
        (
            "alerts:\n  - name: x\n    urls: [json://h/x]\n    severities: [recovered]\n",
            "recovered alone never fires",
        ),
        ("alerts:\n  - name: x\n    urls: [not-a-url]\n", "must be an Apprise URL"),
        ("alerts:\n  - name: x\n    urls: [json://h/x]\n    tags: [a]\n", "give config too"),
        ("alerts:\n  - name: x\n    urls: [json://h/x]\n    cooldown: soon\n", "not a duration"),
        ("maintenance:\n  - cron: '0 3 * * *'\n", "needs a duration"),
        ("maintenance:\n  - cron: 'every night'\n    duration: 1h\n", "cron 'every night'"),
        ("maintenance:\n  - targets: [openai]\n", "needs start/end or cron"),
        (
            "maintenance:\n  - start: 2026-12-01T04:00:00Z\n    end: 2026-12-01T02:00:00Z\n",
            "end must be after start",
        ),
    ],
)
def test_a_bad_alerts_or_maintenance_section_is_reported_with_its_line(
    tmp_path: Path, section: str, problem: str
) -> None:
    path = write(tmp_path, section)

    with pytest.raises(ConfigError) as caught:
        load_config(path, env={})

    [line] = caught.value.problems
    assert line.startswith(f"{path}:")
    assert problem in line


def test_a_recurring_window_lists_its_occurrences() -> None:
    window = MaintenanceWindow(cron="0 3 * * *", duration=1800)
    since = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)

    spans = window.occurrences(since, since + timedelta(days=2))

    assert spans == [
        (datetime(2026, 11, 28, 3, 0, tzinfo=UTC), datetime(2026, 11, 28, 3, 30, tzinfo=UTC)),
        (datetime(2026, 11, 29, 3, 0, tzinfo=UTC), datetime(2026, 11, 29, 3, 30, tzinfo=UTC)),
    ]


def test_a_window_in_a_time_zone_follows_local_time() -> None:
    window = MaintenanceWindow(cron="0 2 * * *", duration=3600, timezone="Europe/Berlin")

    assert window.covers("x/y", "oncall", datetime(2026, 11, 28, 1, 30, tzinfo=UTC))
    assert not window.covers("x/y", "oncall", datetime(2026, 11, 28, 2, 30, tzinfo=UTC))


def test_a_silence_with_only_an_end_covers_everything_until_then() -> None:
    end = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
    silence = MaintenanceWindow(end=end)

    assert silence.covers("openai/gpt-4o-mini", "oncall", end - timedelta(days=30))
    assert not silence.covers("openai/gpt-4o-mini", "oncall", end)
