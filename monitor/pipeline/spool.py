"""The spool: a local file of result batches the database has not taken yet, oldest first.

    spool = Spool.open(path)        # takes the file's lock; None when another monitor holds it
    spool.append([batch, ...])      # OSError when the disk refuses (full, read-only)
    batches, end = spool.read(500)  # complete lines from the read position, up to ~500 results
    spool.advance(end)              # after they are committed; an emptied spool is truncated

One line per batch: `N {"results": [...]}` where N is the number of results (so the backlog is
counted without parsing). Timestamps keep their microseconds, so a spooled result can be found
again in the database (`results.contains`) and is never written twice. The read position lives in
`PATH.pos`; a line cut by a crash while it was written is dropped when the spool is opened.

Files are flushed to the operating system after each write, not fsynced: a killed monitor loses
nothing, a power cut may lose the last seconds.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

from monitor.result import ProbeResult

Batch = list[ProbeResult]


def encode(batch: Sequence[ProbeResult]) -> bytes:
    records = []
    for result in batch:
        record = result.to_dict()
        record["ts"] = result.ts.isoformat()  # microseconds: the key `results.contains` looks up
        records.append(record)
    body = json.dumps({"results": records}, ensure_ascii=False, separators=(",", ":"))
    return f"{len(records)} {body}\n".encode()


def decode(line: bytes) -> Batch:
    """One spool line back into results; ValueError when it is not a spool line."""
    _count, _sep, body = line.partition(b" ")
    data: Any = json.loads(body)
    return [ProbeResult.from_dict(record) for record in data["results"]]


def _count(line: bytes) -> int:
    head = line.split(b" ", 1)[0]
    return int(head) if head.isdigit() else 0


class Spool:
    """An append-only JSONL file with a read position; one process uses it at a time (flock)."""

    def __init__(self, path: Path, lock: IO[bytes]) -> None:
        self.path = path
        self.pos_path = path.with_name(path.name + ".pos")
        self._lock = lock
        self.pos = 0
        self.size = 0
        self.results = 0  # results between pos and size
        self.found_at_open = 0  # results left by an earlier run (some may be stored: a crash)

    @classmethod
    def open(cls, path: Path) -> Spool | None:
        """Open (creating the folder) and lock the spool; None when another process holds it.

        Raises OSError when the folder or the lock file cannot be made.
        """
        path.parent.mkdir(parents=True, exist_ok=True)
        lock = open(path.with_name(path.name + ".lock"), "ab")  # noqa: SIM115 - held until close
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.close()
            return None
        spool = cls(path, lock)
        spool._load()
        return spool

    def _load(self) -> None:
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            data = b""
        end = data.rfind(b"\n") + 1
        if end < len(data):  # a line cut by a crash mid-write: it was never complete
            with open(self.path, "r+b") as f:
                f.truncate(end)
        try:
            pos = int(self.pos_path.read_text().strip() or 0)
        except (FileNotFoundError, ValueError):
            pos = 0
        self.pos = pos if 0 <= pos <= end else 0
        self.size = end
        self.results = sum(_count(line) for line in data[self.pos : end].splitlines())
        self.found_at_open = self.results

    @property
    def unread(self) -> bool:
        return self.pos < self.size

    def append(self, batches: Sequence[Sequence[ProbeResult]]) -> None:
        """Add batches after everything spooled; OSError (nothing added) when the disk refuses."""
        data = b"".join(encode(b) for b in batches)
        with open(self.path, "ab") as f:
            try:
                f.write(data)
                f.flush()
            except OSError:
                f.truncate(self.size)  # no partial line stays behind
                raise
        self.size += len(data)
        self.results += sum(len(b) for b in batches)

    def prepend(self, batches: Sequence[Sequence[ProbeResult]]) -> None:
        """Put batches before everything unread (they are older): the file is rewritten."""
        head = b"".join(encode(b) for b in batches)
        with open(self.path, "rb") as f:
            f.seek(self.pos)
            rest = f.read(self.size - self.pos)
        fresh = self.path.with_name(self.path.name + ".new")
        with open(fresh, "wb") as f:
            f.write(head + rest)
            f.flush()
            os.fsync(f.fileno())
        os.replace(fresh, self.path)
        self._write_pos(0)
        self.pos, self.size = 0, len(head) + len(rest)
        self.results += sum(len(b) for b in batches)

    def read(self, max_results: int) -> tuple[list[tuple[Batch | None, int]], int]:
        """Complete lines from the read position, up to about `max_results` results.

        Returns `[(batch or None for an unreadable line, line end offset), ...]` and the offset
        after the last line read. Reads only what was appended before the call.
        """
        out: list[tuple[Batch | None, int]] = []
        offset, taken, size = self.pos, 0, self.size
        with open(self.path, "rb") as f:
            f.seek(offset)
            while offset < size and (taken < max_results or not out):
                line = f.readline()
                if not line.endswith(b"\n"):
                    break
                offset += len(line)
                try:
                    batch: Batch | None = decode(line)
                except (ValueError, KeyError, TypeError):
                    batch = None
                taken += _count(line)
                out.append((batch, offset))
        return out, offset

    def advance(self, offset: int, results: int) -> None:
        """Mark everything before `offset` as written; an emptied spool starts over."""
        self.results = max(0, self.results - results)
        if offset >= self.size:
            with open(self.path, "r+b") as f:
                f.truncate(0)
            self.pos = self.size = self.results = 0
            self.pos_path.unlink(missing_ok=True)
            return
        self._write_pos(offset)
        self.pos = offset

    def _write_pos(self, offset: int) -> None:
        # Only a shortcut: lines after a stale position are looked up before they are written.
        fresh = self.pos_path.with_name(self.pos_path.name + ".new")
        with contextlib.suppress(OSError):
            fresh.write_text(f"{offset}\n")
            os.replace(fresh, self.pos_path)

    def close(self) -> None:
        """Release the lock; an empty spool's files are removed."""
        if not self.unread:
            for path in (self.path, self.pos_path):
                path.unlink(missing_ok=True)
        self._lock.close()
