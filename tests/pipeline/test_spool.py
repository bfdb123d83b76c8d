"""The spool file: batches in order, a line cut by a crash dropped, one process at a time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from monitor.pipeline.spool import Spool
from monitor.result import Outcome, ProbeResult

T0 = datetime(2026, 12, 1, 12, 0, 0, 123456, tzinfo=UTC)


def _batch(i: int) -> list[ProbeResult]:
    return [
        ProbeResult(
            ts=T0 + timedelta(seconds=i),
            target="openai/gpt-4o-mini",
            provider="openai",
            model="gpt-4o-mini",
            canary="arithmetic",
            outcome=Outcome.OK,
            answer="391",
        )
    ]


def _read_all(spool: Spool) -> list[int]:
    lines, _end = spool.read(10_000)
    return [int((b[0].ts - T0).total_seconds()) for b, _ in lines if b is not None]


def test_batches_come_back_in_order_with_their_microseconds(tmp_path: Path) -> None:
    spool = Spool.open(tmp_path / "s.jsonl")
    assert spool is not None
    spool.append([_batch(1), _batch(2)])
    spool.prepend([_batch(0)])
    spool.append([_batch(3)])
    lines, _end = spool.read(10_000)
    assert [b[0].ts for b, _ in lines if b is not None] == [
        T0 + timedelta(seconds=i) for i in range(4)
    ]
    assert spool.results == 4
    spool.close()


def test_what_was_written_is_not_read_again_after_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    spool = Spool.open(path)
    assert spool is not None
    spool.append([_batch(i) for i in range(5)])
    lines, _ = spool.read(2)
    spool.advance(lines[-1][1], 2)
    spool.close()
    again = Spool.open(path)
    assert again is not None
    assert again.found_at_open == 3
    assert _read_all(again) == [2, 3, 4]
    again.close()


def test_a_line_cut_by_a_crash_is_dropped_and_the_rest_kept(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    spool = Spool.open(path)
    assert spool is not None
    spool.append([_batch(0), _batch(1)])
    spool.close()
    with open(path, "ab") as f:
        f.write(b'1 {"results": [{"ts": "2026-')  # killed mid-write
    again = Spool.open(path)
    assert again is not None
    assert _read_all(again) == [0, 1]
    assert path.read_bytes().endswith(b"\n")
    again.close()


def test_a_second_process_does_not_share_a_held_spool(tmp_path: Path) -> None:
    first = Spool.open(tmp_path / "s.jsonl")
    assert first is not None
    assert Spool.open(tmp_path / "s.jsonl") is None  # flock: another open file description
    first.close()


def test_an_emptied_spool_leaves_no_files_behind(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    spool = Spool.open(path)
    assert spool is not None
    spool.append([_batch(0)])
    _lines, end = spool.read(10)
    spool.advance(end, 1)
    spool.close()
    assert not path.exists() and not path.with_name("s.jsonl.pos").exists()
