"""How `monitor.providers.stream` shares the probes' event loop: a large body is decoded and
parsed a slice at a time, and the loop turns between slices, so other probes run meanwhile."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections import Counter

import httpx

from monitor.providers.stream import SLICE_BYTES, Reading, stream_call
from monitor.result import Outcome
from tests.hostile import Response, serve

PADDED = json.dumps({"choices": [{"delta": {"content": ""}}], "pad": "x" * 2000})
"""An event carrying no answer text (so the answer's bound is never reached), 2 KB long."""


def _large_body(events: int) -> bytes:
    answer = b'data: {"choices": [{"delta": {"content": "391"}, "finish_reason": "stop"}]}\n\n'
    return f"data: {PADDED}\n\n".encode() * events + answer + b"data: [DONE]\n\n"


class Ticker:
    """Counts the event loop's turns: a task that yields to the loop in a tight loop."""

    def __init__(self) -> None:
        self.turns = 0
        self.task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        while True:
            self.turns += 1
            await asyncio.sleep(0)

    def __enter__(self) -> Ticker:
        self.task = asyncio.get_running_loop().create_task(self._run())
        return self

    def __exit__(self, *exc: object) -> None:
        assert self.task is not None
        self.task.cancel()


class SlowReading(Reading):
    """The OpenAI reading, noting the loop's turn and the thread at each event, 1 ms apiece (a
    parser with real work to do)."""

    def __init__(self, ticker: Ticker) -> None:
        super().__init__()
        self.ticker = ticker
        self.seen: list[tuple[int, str]] = []

    def on_data(self, event: bytes | None, data: bytes) -> str:
        self.seen.append((self.ticker.turns, threading.current_thread().name))
        time.sleep(0.001)
        if data == b"[DONE]":
            self.complete = True
            return ""
        chunk = json.loads(data)
        return str(chunk["choices"][0]["delta"].get("content") or "")


async def _read(body: bytes, timeout: float = 30.0) -> tuple[Outcome, SlowReading]:  # noqa: ASYNC109
    with serve(lambda request: Response(200, body=body)) as server:
        async with httpx.AsyncClient(trust_env=False) as client:
            with Ticker() as ticker:
                reading = SlowReading(ticker)
                request = client.build_request("POST", f"{server.url}/v1/chat/completions")
                reply = await stream_call(client, request, reading, timeout=timeout, prompt_chars=1)
    return reply.outcome, reading


async def test_the_event_loop_turns_between_slices_of_a_large_body() -> None:
    outcome, reading = await _read(_large_body(500))  # 1 MB, read 64 KB at a time
    assert outcome is Outcome.OK
    per_turn = Counter(turn for turn, _ in reading.seen)
    # Parsed a whole read at a time, 32 or more of these 2 KB events went by in one loop turn.
    # A read that finds its bytes already buffered need not yield, so a turn may hold the end
    # of one slice and the start of the next.
    assert max(per_turn.values()) <= 2 * (SLICE_BYTES // len(PADDED)) + 2, per_turn.most_common(3)


async def test_a_timeout_during_parsing_ends_the_reading() -> None:
    outcome, reading = await _read(_large_body(5000), timeout=0.5)  # ~5 s of parsing
    assert outcome is Outcome.TIMEOUT
    after = len(reading.seen)
    await asyncio.sleep(0.1)
    assert len(reading.seen) == after < 5000
