"""A loopback OTLP/HTTP collector: it decodes every metrics export with the protocol's own
protobuf package (`opentelemetry-proto`), as a real collector does."""

from __future__ import annotations

import gzip
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
    ExportMetricsServiceResponse,
)


@dataclass
class Collector:
    """What the collector received. `status` is what it answers (200, or an error such as 400);
    while `hold` is clear it keeps each request waiting (a collector that hangs)."""

    url: str = ""
    status: int = 200
    bodies: list[bytes] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    requests: list[ExportMetricsServiceRequest] = field(default_factory=list)
    hold: threading.Event = field(default_factory=threading.Event)
    arrived: threading.Event = field(default_factory=threading.Event)

    def metrics(self) -> dict[str, list[Any]]:
        """Every metric received, by name: the `Metric` messages of every request, in order."""
        out: dict[str, list[Any]] = {}
        for request in self.requests:
            for rm in request.resource_metrics:
                for sm in rm.scope_metrics:
                    for metric in sm.metrics:
                        out.setdefault(metric.name, []).append(metric)
        return out

    def resource(self) -> dict[str, Any]:
        attrs = self.requests[-1].resource_metrics[0].resource.attributes
        return {a.key: value_of(a.value) for a in attrs}


def value_of(value: Any) -> Any:
    kind = value.WhichOneof("value")
    return getattr(value, kind) if kind else None


def attributes(point: Any) -> dict[str, Any]:
    return {a.key: value_of(a.value) for a in point.attributes}


@pytest.fixture
def collector() -> Iterator[Collector]:
    state = Collector()
    state.hold.set()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", "0"))
            body = self.rfile.read(length)
            if self.headers.get("content-encoding") == "gzip":
                body = gzip.decompress(body)
            state.arrived.set()
            state.hold.wait()
            request = ExportMetricsServiceRequest()
            request.ParseFromString(body)
            if self.path == "/v1/metrics" and state.status == 200:
                state.bodies.append(body)
                state.headers.append({k.lower(): v for k, v in self.headers.items()})
                state.requests.append(request)
                answer = ExportMetricsServiceResponse().SerializeToString()
                self.send_response(200)
            else:
                answer = b"not taken: test collector"
                self.send_response(state.status if state.status != 200 else 404)
            self.send_header("content-type", "application/x-protobuf")
            self.send_header("content-length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        state.hold.set()
        server.shutdown()
        server.server_close()
