"""Real receivers on loopback for Apprise to deliver to, an injectable clock, and config helpers."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import Message
from email.parser import BytesParser
from email.policy import default as default_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

import pytest
from aiosmtpd.controller import Controller

T0 = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)


class Clock:
    """A clock tests move by hand: `clock()` is now, `clock.advance(seconds=30)` moves it."""

    def __init__(self, start: datetime = T0) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> datetime:
        self.now += timedelta(**kwargs)
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@dataclass
class HttpReceiver:
    """A webhook receiver (Apprise's `json://` and `form://`): records every body posted while
    up, as a dict; answers 503 while down."""

    port: int
    received: list[dict[str, Any]] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    refused: int = 0
    up: bool = True

    def url(self, path: str = "hook", scheme: str = "json") -> str:
        return f"{scheme}://127.0.0.1:{self.port}/{path}"

    @property
    def titles(self) -> list[str]:
        return [m["title"] for m in self.received]


@pytest.fixture
def receiver() -> Iterator[HttpReceiver]:
    state = HttpReceiver(port=0)
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            with lock:
                if not state.up:
                    state.refused += 1
                    self.send_response(503)
                else:
                    form = "form-urlencoded" in self.headers.get("Content-Type", "")
                    parsed = dict(parse_qsl(body.decode())) if form else json.loads(body)
                    state.received.append(parsed)
                    state.paths.append(self.path)
                    self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.port = server.server_address[1]
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    yield state
    server.shutdown()
    server.server_close()
    thread.join()


@dataclass
class SmtpReceiver:
    port: int
    messages: list[Message] = field(default_factory=list)

    def url(self, to: str = "oncall@example.com") -> str:
        return f"mailto://127.0.0.1:{self.port}?from=brownout@example.com&to={to}"


@pytest.fixture
def smtp() -> Iterator[SmtpReceiver]:
    state = SmtpReceiver(port=0)

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            state.messages.append(BytesParser(policy=default_policy).parsebytes(envelope.content))
            return "250 OK"

    with socket.socket() as probe:  # aiosmtpd's readiness check cannot work with port 0
        probe.bind(("127.0.0.1", 0))
        state.port = probe.getsockname()[1]
    controller = Controller(Handler(), hostname="127.0.0.1", port=state.port)
    controller.start()
    yield state
    controller.stop()


def channel(name: str, *urls: str, **options: Any) -> dict[str, Any]:
    return {"name": name, "urls": list(urls), "group_wait": 0, **options}
