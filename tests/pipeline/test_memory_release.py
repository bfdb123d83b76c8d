"""Free heap pages go back to the system after detection's restore and every 10 minutes
(`monitor.memory`): a restore replays a day of results as short-lived records, and glibc keeps
the pages they took as resident memory unless asked to give them back."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from monitor.config import Config
from monitor.pipeline import detection as detection_module
from monitor.pipeline.detection import DetectionService
from monitor.pipeline.services import RELEASE_EVERY_S, build_services
from monitor.store import Store, results
from tests.factories import healthy_stream

FRAGMENTED = textwrap.dedent(
    """
    import os, sys
    from monitor.memory import release_free_memory

    def rss_mb():
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20

    # 120 MB of records above pymalloc's size (so in the C heap), one in 50 kept: the free
    # pages sit between the survivors, where the heap cannot shrink by itself.
    records = [bytes(600) + bytes([i % 256]) for i in range(200_000)]
    kept = records[::50]
    del records
    before = rss_mb()
    released = release_free_memory()
    print(released, round(before), round(rss_mb()), len(kept))
    """
)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc; glibc's malloc")
def test_free_heap_pages_go_back_to_the_system() -> None:
    out = subprocess.run(
        [sys.executable, "-c", FRAGMENTED],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    released, before, after = out[0] == "True", int(out[1]), int(out[2])
    assert released
    assert before - after > 60  # most of the 118 MB freed left the process


def test_detection_gives_the_replays_pages_back_after_a_restore(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[bool] = []
    monkeypatch.setattr(detection_module, "release_free_memory", lambda: calls.append(True))
    results.record(store, healthy_stream(0, 50))
    DetectionService(store, Config()).restore()
    assert calls == [True]


def test_the_leaders_periodic_jobs_give_free_pages_back_every_10_minutes(store: Store) -> None:
    services = build_services(Config(), store, restore=False, alerts=False)

    async def in_pipeline(work):  # type: ignore[no-untyped-def]
        return work()

    jobs = services.periodic(in_pipeline, client=None)  # type: ignore[arg-type]
    assert RELEASE_EVERY_S == 600.0
    assert [every for every, job in jobs if job.__name__ == "release"] == [RELEASE_EVERY_S]
