"""Scheduled reports go out through Apprise, at their cron time, once, with the report attached."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from pydantic import ValidationError

from monitor.config import Config
from monitor.reports.scheduled import ReportScheduler
from monitor.store import Store
from tests.factories import probe, seed

MONDAY_8 = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)  # a Monday


class Receiver:
    """A JSON webhook on loopback that keeps every body posted to it."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.port = 0

    def url(self, path: str = "reports") -> str:
        return f"json://127.0.0.1:{self.port}/{path}"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            state.received.append(json.loads(body))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield state
    server.shutdown()
    server.server_close()
    thread.join()


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def config(receiver: Receiver, **report: Any) -> Config:
    spec = {"name": "weekly", "cron": "0 8 * * mon", "period": "7d", "channels": ["team"]}
    return Config.model_validate(
        {
            "alerts": [
                {"name": "team", "urls": [receiver.url()]},
                {"name": "other", "urls": [receiver.url("other")]},
            ],
            "reports": {"scheduled": [spec | report]},
        }
    )


@pytest.fixture
def week(store: Store) -> Store:
    seed(store, [probe(MONDAY_8 - timedelta(hours=i)) for i in range(1, 24 * 7 + 1)])
    return store


def test_a_weekly_report_is_sent_once_at_its_time_with_the_report_attached(
    week: Store, receiver: Receiver
) -> None:
    clock = Clock(MONDAY_8 - timedelta(minutes=1))
    scheduler = ReportScheduler(config(receiver), week, clock)
    assert scheduler.tick() == [] and receiver.received == []
    clock.now = MONDAY_8 + timedelta(seconds=30)
    deliveries = scheduler.tick()
    assert [d.ok for d in deliveries] == [True]
    assert scheduler.tick() == []
    assert scheduler.next_times() == {"weekly": MONDAY_8 + timedelta(days=7)}
    (message,) = receiver.received
    assert message["title"].startswith("brownout weekly report:")
    assert "of 168 probes" in message["message"]
    (attachment,) = message["attachments"]
    assert attachment["filename"] == "brownout-weekly-2026-11-30.html"
    html = base64.b64decode(attachment["base64"]).decode()
    assert "<h1>brownout report</h1>" in html and "2026-11-23 08:00 UTC" in html


def test_without_attach_only_the_summary_is_sent(week: Store, receiver: Receiver) -> None:
    clock = Clock(MONDAY_8 - timedelta(minutes=1))
    scheduler = ReportScheduler(config(receiver, attach=False, channels=[]), week, clock)
    clock.now = MONDAY_8
    assert len(scheduler.tick()) == 2  # no channels listed: every channel
    assert all(not m.get("attachments") for m in receiver.received)
    assert all("Time-weighted availability" in m["message"] for m in receiver.received)


def test_a_monitor_that_slept_through_sends_sends_one_report_not_a_burst(
    week: Store, receiver: Receiver
) -> None:
    clock = Clock(MONDAY_8 - timedelta(days=21))
    scheduler = ReportScheduler(config(receiver), week, clock)
    clock.now = MONDAY_8 + timedelta(hours=1)
    assert len(scheduler.tick()) == 1 and scheduler.tick() == []


def test_an_unreachable_destination_is_a_failed_delivery_not_an_exception(week: Store) -> None:
    cfg = Config.model_validate(
        {
            "alerts": [{"name": "team", "urls": ["json://127.0.0.1:9/nothing-listens"]}],
            "reports": {"scheduled": [{"name": "daily", "cron": "0 8 * * *", "period": "1d"}]},
        }
    )
    clock = Clock(MONDAY_8 - timedelta(minutes=1))
    scheduler = ReportScheduler(cfg, week, clock)
    clock.now = MONDAY_8
    (delivery,) = scheduler.tick()
    assert not delivery.ok and delivery.error


@pytest.mark.parametrize(
    ("report", "problem"),
    [
        ({"cron": "0 8 * *"}, "Wrong number of fields"),
        ({"cron": "0 8 * * mon", "timezone": "Mars/Olympus"}, "Mars/Olympus"),
        ({"cron": "0 8 * * mon", "format": "pdf"}, "'md', 'html', 'csv' or 'json'"),
        ({"cron": "0 8 * * mon", "period": "0s"}, "greater than zero"),
        ({"cron": "0 8 * * mon", "every": "week"}, "Extra inputs"),
    ],
)
def test_a_bad_scheduled_report_is_a_config_error(report: dict[str, Any], problem: str) -> None:
    with pytest.raises(ValidationError, match=problem):
        Config.model_validate({"reports": {"scheduled": [{"name": "r"} | report]}})
