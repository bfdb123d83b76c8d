"""The pipeline writer writes results in groups: those that arrive within `GROUP_S` of the last
write wait for the next one, one transaction and one pass of the sinks for the whole group. A full
group, a flush and a close do not wait. The clock is the writer's own (a fake one here): nothing
is written before it says the group is due, however long the test takes."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import timedelta
from pathlib import Path

import pytest

from monitor.pipeline import writer as writer_module
from monitor.pipeline.writer import GROUP_RESULTS, GROUP_S, ResultWriter
from monitor.result import ProbeResult
from monitor.store import Store, open_store, results
from tests.factories import T0, probe


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Recorder:
    """A sink that keeps the groups it is fed."""

    def __init__(self) -> None:
        self.groups: list[list[ProbeResult]] = []
        self.lock = threading.Lock()

    def on_results(self, batch: Sequence[ProbeResult]) -> None:
        with self.lock:
            self.groups.append(list(batch))

    def sizes(self) -> list[int]:
        with self.lock:
            return [len(g) for g in self.groups]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    store = open_store(f"sqlite:///{tmp_path / 'groups.db'}")
    yield store
    store.close()


@pytest.fixture
def transactions(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The size of each `results.record` call the writer makes (one transaction each)."""
    sizes: list[int] = []
    record = results.record

    def counted(store: Store, items: Sequence[ProbeResult]) -> None:
        record(store, items)
        sizes.append(len(items))

    monkeypatch.setattr(writer_module.results, "record", counted)
    return sizes


def _batch(i: int) -> list[ProbeResult]:
    return [probe(T0 + timedelta(milliseconds=i), f"openai/model-{i:04d}")]


def _until(predicate: Callable[[], bool], limit: float = 30.0) -> bool:
    """Poll (bounded): True once `predicate` holds, False if it never did."""
    deadline = time.monotonic() + limit
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def _settled(writer: ResultWriter, stored: int) -> bool:
    """Whether the writer has stored `stored` results and stays there a moment."""
    if not _until(lambda: writer.stored >= stored):
        return False
    time.sleep(0.3)
    return writer.stored == stored


def test_results_arriving_within_the_group_time_are_written_together(
    store: Store, transactions: list[int]
) -> None:
    clock, sink = Clock(), Recorder()
    writer = ResultWriter(store, [sink], clock=clock)
    writer.start()
    try:
        writer.submit(_batch(0))  # nothing written lately: at once
        assert _settled(writer, 1)
        for i in range(1, 11):
            writer.submit(_batch(i))
        assert _settled(writer, 1)  # within GROUP_S of the last write: they wait
        assert writer.state()["backlog"]["in_memory"] == 10
        clock.now += GROUP_S
        writer.call(lambda: None)  # wakes the thread; the group is due
        assert _until(lambda: writer.stored == 11)
        assert _until(lambda: sink.sizes() == [1, 10])
        assert transactions == [1, 10]
    finally:
        writer.close(timeout=10)
    assert len(list(results.between(store))) == 11


def test_a_full_group_is_written_without_waiting(store: Store, transactions: list[int]) -> None:
    clock = Clock()
    writer = ResultWriter(store, clock=clock)
    writer.start()
    try:
        writer.submit(_batch(0))
        assert _settled(writer, 1)
        for i in range(1, GROUP_RESULTS + 1):
            writer.submit(_batch(i))
        assert _until(lambda: writer.stored == GROUP_RESULTS + 1)  # the clock never moved
        assert transactions == [1, GROUP_RESULTS]
    finally:
        writer.close(timeout=10)


def test_flush_and_close_write_a_waiting_group_at_once(store: Store, tmp_path: Path) -> None:
    clock = Clock()
    spool = tmp_path / "groups.db.spool.jsonl"
    writer = ResultWriter(store, clock=clock, spool_path=spool)
    writer.start()
    writer.submit(_batch(0))
    assert _settled(writer, 1)
    writer.submit(_batch(1))
    assert writer.flush(timeout=30)  # the clock never moved
    assert writer.stored == 2
    writer.submit(_batch(2))
    writer.close(timeout=30)
    assert writer.stored == 3
    assert len(list(results.between(store))) == 3
    assert not spool.exists() or spool.stat().st_size == 0  # written, not kept for later
