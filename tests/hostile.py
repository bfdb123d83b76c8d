"""A loopback HTTP server that answers the way a test scripts it: for provider behaviour the
simulator does not play (echoing keys, NUL bytes, endless bodies, gzip bombs).

    with serve(reply) as server:          # reply(request) -> Response
        server.url                         # http://127.0.0.1:PORT
        server.requests                    # every Request seen, in order

A Response's body is bytes or an iterable of byte chunks, sent as they come (no length: the
connection closes at the end), so a body can be larger than memory would like.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> object:
        return json.loads(self.body or b"null")


@dataclass
class Response:
    status: int = 200
    headers: dict[str, str] = field(default_factory=lambda: {"content-type": "text/event-stream"})
    body: bytes | Iterable[bytes] = b""


@dataclass
class Server:
    url: str
    requests: list[Request]


def openai_stream(text: str, *, fingerprint: str | None = None) -> bytes:
    """An OpenAI chat completion stream answering `text` in one chunk, with usage, then [DONE]."""
    chunk = {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "model": "m",
        "system_fingerprint": fingerprint,
        "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": None}],
    }
    done = {**chunk, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
    usage = {**chunk, "choices": [], "usage": {"prompt_tokens": 5, "completion_tokens": 2}}
    events = [json.dumps(c) for c in (chunk, done, usage)]
    return "".join(f"data: {e}\n\n" for e in [*events, "[DONE]"]).encode()


@contextlib.contextmanager
def serve(reply: Callable[[Request], Response]) -> Iterator[Server]:
    """Serve `reply` on a free loopback port until the block ends."""
    seen: list[Request] = []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:  # quiet
            pass

        def _handle(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            request = Request(
                self.command,
                self.path,
                {k.lower(): v for k, v in self.headers.items()},
                self.rfile.read(length) if length else b"",
            )
            seen.append(request)
            response = reply(request)
            self.send_response(response.status)
            for name, value in response.headers.items():
                self.send_header(name, value)
            self.send_header("connection", "close")
            self.end_headers()
            body = response.body
            with contextlib.suppress(OSError):  # the client may stop reading: that is the point
                for chunk in [body] if isinstance(body, bytes) else body:
                    self.wfile.write(chunk)
                self.wfile.flush()
            self.close_connection = True

        do_POST = do_GET = _handle

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield Server(f"http://127.0.0.1:{httpd.server_address[1]}", seen)
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()
