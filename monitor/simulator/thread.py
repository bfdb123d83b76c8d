"""Running the simulator: in a background thread on a free loopback port (tests, demo, bench),
or in the foreground (`brownout simulate`).

    with run_in_thread("scenarios/healthy.yaml") as sim:
        sim.url                     # http://127.0.0.1:PORT  (OpenAI base_url: sim.openai_url)
        sim.advance(300)            # jump the scenario's clock 5 minutes ahead
        sim.set_scenario({...})     # new behaviour from now on (the clock restarts)
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import uvicorn

from monitor.errors import BrownoutError
from monitor.simulator.app import Simulator
from monitor.simulator.clock import SimClock
from monitor.simulator.connections import protocol_for
from monitor.simulator.scenario import Scenario

ScenarioSource = str | Path | dict[str, Any] | Scenario | None


class SimulatorHandle:
    """A running simulator. Thread-safe for what tests need: reading `url`, swapping scenario,
    moving the clock (plain attribute writes the server's loop picks up on the next request)."""

    def __init__(self, simulator: Simulator, clock: SimClock, host: str, port: int) -> None:
        self.simulator = simulator
        self.clock = clock
        self.host = host
        self.port = port

    @property
    def url(self) -> str:
        """`http://HOST:PORT`: Anthropic's and Gemini's base_url."""
        return f"http://{self.host}:{self.port}"

    @property
    def openai_url(self) -> str:
        """OpenAI's base_url (`{url}/v1`)."""
        return f"{self.url}/v1"

    def base_url(self, kind: str) -> str:
        """The base_url a provider of `kind` (openai | anthropic | gemini) should use."""
        return self.openai_url if kind == "openai" else self.url

    def set_scenario(self, scenario: ScenarioSource, *, reset_clock: bool = True) -> None:
        self.simulator.set_scenario(scenario)
        if reset_clock:
            self.clock.reset()

    def advance(self, seconds: float) -> None:
        """Move the scenario's clock ahead (phases are keyed by time since start)."""
        self.clock.advance(seconds)

    @property
    def in_flight(self) -> int:
        """Answers being sent right now (a stream ends when its client leaves)."""
        return self.simulator.in_flight

    @property
    def counts(self) -> dict[str, int]:
        """Requests served so far by `protocol:fault` (`openai:ok`, `anthropic:overloaded`…)."""
        return dict(self.simulator.counts)

    @property
    def requests(self) -> list[dict[str, Any]]:
        """The most recent requests (protocol, model, stream, fault, prompt, max_tokens)."""
        return list(self.simulator.requests)


def _server(simulator: Simulator, connections: str = "keep") -> uvicorn.Server:
    config = uvicorn.Config(
        simulator.app,
        http=protocol_for(connections),
        log_level="warning",
        access_log=False,
        lifespan="off",
        timeout_keep_alive=30,
        timeout_graceful_shutdown=2,  # answers still in flight (a hang) do not hold up a stop
        backlog=4096,
    )
    return uvicorn.Server(config)


def bind(host: str = "127.0.0.1", port: int = 0) -> socket.socket:
    """A listening socket (port 0: a free one)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP, not the default 0: asyncio turns Nagle off (TCP_NODELAY) only on sockets whose
    # proto says TCP, and with Nagle on, the first SSE chunk waited ~40 ms for the client's
    # delayed ACK of the response headers (seen in bench/ttft_accuracy.py).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise BrownoutError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    sock.listen(4096)
    sock.setblocking(False)
    return sock


@contextlib.contextmanager
def run_in_thread(
    scenario: ScenarioSource = None,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    clock: SimClock | None = None,
    connections: str = "keep",
) -> Iterator[SimulatorHandle]:
    """Serve `scenario` from a background thread until the block ends.

    `clock` (a `SimClock`, shared with the caller if given) is what scenario phases follow;
    the handle's `advance` moves it. `connections` is how kept-alive connections are treated
    (`keep`, `close_after`, `drop_reused`: `monitor.simulator.connections`). Raises
    BrownoutError when the server cannot start.
    """
    clock = clock or SimClock()
    simulator = Simulator(scenario, clock=clock)
    protocol_for(connections)  # an unknown mode fails here, before a port is taken
    sock = bind(host, port)
    server = _server(simulator, connections)
    failed: list[BaseException] = []

    def serve() -> None:
        try:
            asyncio.run(server.serve(sockets=[sock]))
        except BaseException as exc:  # reported to the caller below, not lost in the thread
            failed.append(exc)

    thread = threading.Thread(target=serve, name="brownout-simulator", daemon=True)
    thread.start()
    while not server.started and thread.is_alive():
        thread.join(0.005)
    if failed or not server.started:
        sock.close()
        raise BrownoutError(f"the simulator did not start: {failed[0] if failed else 'unknown'}")
    try:
        yield SimulatorHandle(simulator, clock, host, sock.getsockname()[1])
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def serve_forever(scenario: ScenarioSource, *, host: str, port: int) -> None:
    """Serve in the foreground until interrupted (`brownout simulate`)."""
    simulator = Simulator(scenario)
    sock = bind(host, port)
    server = _server(simulator)
    try:
        asyncio.run(server.serve(sockets=[sock]))
    finally:
        sock.close()
