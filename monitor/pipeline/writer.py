"""The pipeline thread: stores results and feeds the sinks, so probes never wait on the database.

    writer = ResultWriter(store, sinks, health=health, spool_path=spool_path_for(config))
    writer.submit(batch)            # from the event loop: returns at once
    await asyncio.wrap_future(writer.call(work))   # periodic work, serialised with the writes
    writer.close(timeout)           # at shutdown: write what it can, spool the rest

One thread does every database write, oldest result first, in groups: results that arrive within
`GROUP_S` of the last write wait for the next one (up to `GROUP_RESULTS`, which go at once), so
at 67 results/s there are four transactions a second, not one per probe, and the sinks
(detection, the leader's feed) run once per group. While the database fails (locked,
read-only, full, unreachable) results are kept, never dropped:

- in memory while the database keeps up (`MEMORY_RESULTS`);
- in the spool file (`monitor.pipeline.spool`) once writes fail, or past the memory bound, up to
  `SPOOL_BYTES`; a spool left by a killed monitor is written at the next start;
- in memory again (`TAIL_RESULTS` more) when the spool itself cannot be written (a full disk).

Only past all three bounds are results dropped, newest first, counted in `/healthz`. Writes are
retried with a growing pause (up to `RETRY_MAX_S`); a retried batch whose earlier commit went
through is recognised (`results.contains`) and not written twice. A result the database refuses
for what it holds (not for being unavailable) is put in `PATH.rejected.jsonl` beside the spool.

The log gets one warning when writes start failing (or stall for `STALL_S`) and one when they
recover; `state()` reports `database: failing` and the backlog from the first failed write.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import hashlib
import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import make_url

from monitor.durations import format_duration
from monitor.errors import StorageError
from monitor.pipeline.spool import Batch, Spool, encode
from monitor.result import ProbeResult
from monitor.store import Store, results

log = logging.getLogger(__name__)

MEMORY_RESULTS = 10_000
SPOOL_BYTES = 512 * 2**20
TAIL_RESULTS = 10_000
GROUP_RESULTS = 500
GROUP_S = 0.25
"""Writes are at least this far apart while results arrive in memory (one transaction, and one
pass of the sinks, per group): at 2,000 targets every 30 s, 4 a second instead of 67."""
STALL_S = 2.0
RETRY_MAX_S = 5.0
STATE_DIR_ENV = "BROWNOUT_STATE_DIR"


class Sink(Protocol):
    def on_results(self, batch: Sequence[ProbeResult]) -> None: ...


class Counters(Protocol):
    """What the writer updates in the monitor's `Health`."""

    stored: int
    store_errors: int
    last_result: float | None


def spool_path_for(url: str, region: str = "default") -> Path | None:
    """Where results wait while the database is away: beside a SQLite file, else in the state
    folder (`$BROWNOUT_STATE_DIR`, default `~/.local/state/brownout`); None for in-memory SQLite."""
    parsed = make_url(url)
    suffix = "" if region == "default" else f".{region}"
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database in ("", ":memory:") or database.startswith("file:"):
            return None
        return Path(f"{database}{suffix}.spool.jsonl")
    state = os.environ.get(STATE_DIR_ENV) or os.path.expanduser("~/.local/state/brownout")
    key = hashlib.sha256(parsed.render_as_string(hide_password=True).encode()).hexdigest()[:12]
    return Path(state) / f"spool-{key}{suffix}.jsonl"


def _unavailable(exc: BaseException) -> bool:
    """The database is away (locked, read-only, full, unreachable), not refusing the data."""
    cause = exc.__cause__
    away = (
        sa_exc.OperationalError,
        sa_exc.InterfaceError,
        sa_exc.DisconnectionError,
        sa_exc.TimeoutError,
    )
    return isinstance(cause, away)


def _reason(exc: BaseException) -> str:
    text = str(exc).removeprefix("database error: ").strip()
    return text.splitlines()[0] if text else type(exc).__name__


class ResultWriter:
    """The single writer: a thread that stores batches in order and runs serialised work."""

    def __init__(
        self,
        store: Store,
        sinks: Sequence[Sink] = (),
        *,
        health: Counters | None = None,
        spool_path: Path | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.sinks = sinks  # the caller's list: sinks added later are fed too
        self.health = health
        self.spool_path = spool_path
        self.clock = clock
        self._cond = threading.Condition()
        self._head: deque[Batch] = deque()  # oldest; written first
        self._tail: deque[Batch] = deque()  # newer than the spool: only when it cannot be written
        self._head_n = self._tail_n = 0
        self._calls: deque[tuple[Callable[[], Any], concurrent.futures.Future[Any]]] = deque()
        self._spool: Spool | None = None
        self._spool_broken = False
        self._thread: threading.Thread | None = None
        self._closing = False
        self._retry_at = 0.0
        self._attempt = 0
        self.failing_since: float | None = None  # monotonic
        self.failure: str | None = None
        self._writing_since: float | None = None
        self._written_at = -float("inf")  # when the last write ended (see `_due`)
        self._hurry = 0  # flushes waiting: write what is in memory without waiting for a group
        self._stall_reported = False
        self.dropped = 0
        self.rejected = 0
        self.stored = 0
        self._check = False  # look each result up before writing it (see `_unstored`)
        self._check_feed = True  # whether results found stored are still fed to the sinks

    # --- the event loop's side ------------------------------------------------------------

    def start(self) -> None:
        """Open the spool (writing what an earlier run left in it first) and start the thread."""
        if self._thread is not None:
            return
        if self.spool_path is not None:
            try:
                self._spool = Spool.open(self.spool_path)
            except OSError as exc:
                log.warning(
                    "cannot use the spool %s (%s); results wait in memory only",
                    self.spool_path,
                    exc.strerror or exc,
                )
            if self._spool is None and self.spool_path is not None:
                # `brownout once` beside a running monitor: expected, so not a warning.
                log.info(
                    "another monitor holds the spool %s; results wait in memory only",
                    self.spool_path,
                )
            elif self._spool is not None and self._spool.found_at_open:
                log.info(
                    "writing %d result(s) an earlier run left in %s",
                    self._spool.found_at_open,
                    self.spool_path,
                )
                # A killed run may have committed some of them; detection has read those.
                self._check, self._check_feed = True, False
        self._thread = threading.Thread(target=self._run, name="brownout-pipeline", daemon=True)
        self._thread.start()

    def submit(self, batch: Sequence[ProbeResult]) -> None:
        """Queue `batch` for the database; never blocks on it (at most a spool file append)."""
        if not batch:
            return
        batch = list(batch)
        with self._cond:
            self._note_stall()
            if (
                self._tail
                or self._spool_broken
                or (self._spool is None and self._wants_spool(batch))
            ):
                self._keep_in_tail(batch)
            elif self._wants_spool(batch):
                self._to_spool(batch)
            else:
                waiting = bool(self._head)
                self._head.append(batch)
                self._head_n += len(batch)
                if waiting and self._head_n < GROUP_RESULTS:
                    return  # the thread knows when the group is due (`_due`): no wake-up
            self._cond.notify()

    def call(self, work: Callable[[], Any]) -> concurrent.futures.Future[Any]:
        """Run `work` in the pipeline thread, between batches; its result or error in the future."""
        future: concurrent.futures.Future[Any] = concurrent.futures.Future()
        with self._cond:
            self._calls.append((work, future))
            self._cond.notify()
        return future

    def flush(self, timeout: float) -> bool:
        """Wait (blocking) until everything is written, the database fails, or `timeout`."""
        deadline = self.clock() + timeout
        with self._cond:
            self._hurry += 1
            self._cond.notify_all()
            try:
                while self._pending() and self.failing_since is None:
                    left = deadline - self.clock()
                    if left <= 0 or self._thread is None:
                        break
                    self._cond.wait(min(left, 0.2))
                return not self._pending()
            finally:
                self._hurry -= 1

    def close(self, timeout: float = 10.0) -> None:
        """Write for up to `timeout` (while the database works), then spool what is left."""
        if self._thread is None:
            return
        self.flush(timeout)
        with self._cond:
            self._closing = True
            self._cond.notify()
        self._thread.join(timeout=max(timeout, 1.0) + 30.0)
        with self._cond:
            self._keep_leftovers()
            if self._spool is not None:
                self._spool.close()
        self._thread = None

    def state(self) -> dict[str, Any]:
        """For `/healthz`: the database's state as the writes see it, and the backlog."""
        with self._cond:
            self._note_stall()
            now = self.clock()
            failing = self._failing()
            spooled = self._spool.results if self._spool is not None else 0
            out: dict[str, Any] = {
                "database": "failing" if failing else "ok",
                "backlog": {
                    "results": self._head_n + spooled + self._tail_n,
                    "in_memory": self._head_n + self._tail_n,
                    "spooled": spooled,
                },
                "results_dropped": self.dropped,
                "results_rejected": self.rejected,
            }
            if failing:
                since = (
                    self.failing_since if self.failing_since is not None else self._writing_since
                )
                out["database_failing_s"] = round(now - (since or now), 3)
                out["database_error"] = self.failure or "writes are stalled"
            if self._spool is not None:
                out["backlog"]["spool"] = str(self._spool.path)
            return out

    # --- routing (under the lock) -----------------------------------------------------------

    def _failing(self) -> bool:
        stalled = self._writing_since is not None and self.clock() - self._writing_since > STALL_S
        return self.failing_since is not None or stalled

    def _note_stall(self) -> None:
        if self._writing_since is None or self._stall_reported or self.failing_since is not None:
            return
        waited = self.clock() - self._writing_since
        if waited > STALL_S:
            self._stall_reported = True
            log.warning(
                "database writes are stalled (one has waited %s); results are kept until "
                "it answers",
                format_duration(waited),
            )

    def _wants_spool(self, batch: Batch) -> bool:
        spool_busy = self._spool is not None and self._spool.unread
        full = self._head_n + len(batch) > MEMORY_RESULTS
        return spool_busy or full or self._failing()

    def _to_spool(self, batch: Batch) -> None:
        assert self._spool is not None
        if self._spool.size >= SPOOL_BYTES:
            self._keep_in_tail(batch)
            return
        try:
            self._spool.append([batch])
        except OSError as exc:
            self._spool_broken = True
            log.warning(
                "cannot write the spool %s (%s); results wait in memory",
                self._spool.path,
                exc.strerror or exc,
            )
            self._keep_in_tail(batch)

    def _keep_in_tail(self, batch: Batch) -> None:
        if self._tail_n + self._head_n + len(batch) > MEMORY_RESULTS + TAIL_RESULTS:
            if not self.dropped:
                log.warning(
                    "the backlog is full (memory and spool): new results are dropped "
                    "until the database takes the backlog"
                )
            self.dropped += len(batch)
            return
        self._tail.append(batch)
        self._tail_n += len(batch)

    def _pending(self) -> bool:
        spooled = self._spool is not None and self._spool.unread
        return bool(self._head or self._tail or spooled)

    def _keep_leftovers(self) -> None:
        """At close: memory goes to the spool, in order (the head before what is spooled)."""
        if not self._head and not self._tail:
            return
        n = self._head_n + self._tail_n
        if self._spool is not None:
            try:
                if self._head:
                    self._spool.prepend(list(self._head))
                if self._tail:
                    self._spool.append(list(self._tail))
                log.warning(
                    "%d result(s) not yet written are kept in %s for the next start",
                    n,
                    self._spool.path,
                )
                self._head.clear()
                self._tail.clear()
                self._head_n = self._tail_n = 0
                return
            except OSError as exc:
                reason = exc.strerror or str(exc)
        else:
            reason = "there is no spool"
        log.error("%d result(s) could not be written or spooled (%s): they are lost", n, reason)

    # --- the pipeline thread ------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._calls and not self._ready():
                    if self._closing and (not self._pending() or self.failing_since is not None):
                        return
                    wait = self._due() - self.clock() if self._pending() else None
                    self._cond.wait(None if wait is None else max(wait, 0.01))
                calls = list(self._calls)
                self._calls.clear()
                ready = self._ready()
            for work, future in calls:
                self._run_call(work, future)
            if ready:
                self._write_next()

    def _ready(self) -> bool:
        return self._pending() and self.clock() >= self._due()

    def _due(self) -> float:
        """When the next write may start: after the retry pause, and, for results arriving in
        memory while the database keeps up, `GROUP_S` after the last write, unless a full group
        is waiting or a flush or close wants them now. A backlog (spool, tail, checking after a
        failure) is written as fast as the database takes it."""
        grouping = (
            self._head
            and self._head_n < GROUP_RESULTS
            and not self._check
            and not self._hurry
            and not self._closing
            and not (self._spool is not None and self._spool.unread)
        )
        return max(self._retry_at, self._written_at + GROUP_S) if grouping else self._retry_at

    def _run_call(self, work: Callable[[], Any], future: concurrent.futures.Future[Any]) -> None:
        if not future.set_running_or_notify_cancel():
            return
        try:
            future.set_result(work())
        except BaseException as exc:  # handed to the caller, who decides how to report it
            future.set_exception(exc)

    def _take(self) -> tuple[str, list[tuple[Batch | None, int]]]:
        """The oldest pending batches, not removed yet: ("head"|"spool", [(batch, end), ...]).

        While checking (after a failure, or for a spool an earlier run left), one batch at a time.
        """
        limit = 1 if self._check else GROUP_RESULTS
        with self._cond:
            if not self._head and not (self._spool is not None and self._spool.unread):
                self._head, self._tail = self._tail, self._head
                self._head_n, self._tail_n = self._tail_n, 0
                self._spool_broken = False  # try the spool again next time it is needed
            if self._head:
                taken: list[tuple[Batch | None, int]] = []
                n = 0
                for batch in self._head:
                    if taken and n + len(batch) > limit:
                        break
                    taken.append((batch, 0))
                    n += len(batch)
                return "head", taken
            spool = self._spool
        assert spool is not None
        lines, _end = spool.read(limit)
        return "spool", lines

    def _write_next(self) -> None:
        source, taken = self._take()
        if not taken:
            return
        batches = [b for b, _ in taken if b is not None]
        if len(batches) < len(taken):
            log.warning("skipped an unreadable line in the spool %s", self.spool_path)
        flat = [r for b in batches for r in b]
        with self._cond:
            self._writing_since = self.clock()
        try:
            fresh, known = self._unstored(flat) if self._check else (flat, [])
            if fresh:
                try:
                    results.record(self.store, fresh)
                except StorageError as exc:
                    if _unavailable(exc):
                        raise
                    fresh = self._write_one_by_one(fresh, exc)
                except Exception as exc:  # a bug in a write must not stop the pipeline thread
                    fresh = self._write_one_by_one(fresh, exc)
        except StorageError as exc:
            self._failed(exc)
            return
        if not known:
            self._check = False
        self._done(source, taken, len(flat))
        feed = fresh + known if self._check_feed else fresh
        # The sinks see the whole group at once: detection saves its state once per group.
        group = [r for batch in self._regroup(feed, batches) for r in batch]
        if group:
            self._feed(group)

    def _unstored(self, flat: list[ProbeResult]) -> tuple[list[ProbeResult], list[ProbeResult]]:
        """(not yet stored, already stored): a commit whose answer was lost went through."""
        fresh: list[ProbeResult] = []
        known: list[ProbeResult] = []
        for result in flat:
            (known if results.contains(self.store, result) else fresh).append(result)
        return fresh, known

    def _write_one_by_one(self, flat: list[ProbeResult], error: BaseException) -> list[ProbeResult]:
        """The database answers but refuses this data: store what it takes, keep the rest."""
        written, refused = [], []
        for result in flat:
            try:
                results.record(self.store, [result])
                written.append(result)
            except StorageError as exc:
                if _unavailable(exc):
                    raise  # the rest waits; `_check` keeps what was written from being repeated
                refused.append(result)
            except Exception:
                refused.append(result)
        if refused:
            self.rejected += len(refused)
            where = self._reject(refused)
            log.warning(
                "the database refused %d result(s) (%s); kept in %s",
                len(refused),
                _reason(error),
                where,
            )
        return written

    def _reject(self, refused: list[ProbeResult]) -> str:
        base = self.spool_path or Path("brownout.spool.jsonl")
        path = base.with_name(base.name.removesuffix(".jsonl") + ".rejected.jsonl")
        try:
            with open(path, "ab") as f:
                f.write(encode(refused))
            return str(path)
        except OSError as exc:
            return f"nowhere: {path} cannot be written ({exc.strerror or exc})"

    def _failed(self, exc: StorageError) -> None:
        with self._cond:
            self._writing_since = None
            if self.health is not None:
                self.health.store_errors += 1
            self._attempt += 1
            if not self._check:
                self._check, self._check_feed = True, True
            self._retry_at = self.clock() + min(RETRY_MAX_S, 0.25 * 2**self._attempt)
            first = self.failing_since is None
            self.failure = _reason(exc)
            if first:
                self.failing_since = self.clock()
                backlog = self._head_n + self._tail_n
                where = "in memory"
                if self._spool is not None and not self._spool_broken:
                    where = f"in {self._spool.path}"
                    if self._head:
                        try:
                            self._spool.prepend(list(self._head))
                            self._head.clear()
                            self._head_n = 0
                        except OSError:
                            where = "in memory"
                log.warning(
                    "database writes are failing (%s); %d result(s) kept %s until it returns",
                    self.failure,
                    backlog,
                    where,
                )
        # Pooled connections may be dead or opened read-only: reconnect for the next try.
        with contextlib.suppress(Exception):
            self.store.engine.dispose()

    def _done(self, source: str, taken: list[tuple[Batch | None, int]], n: int) -> None:
        with self._cond:
            self._writing_since = None
            self._written_at = self.clock()
            if source == "head":
                for _ in taken:
                    batch = self._head.popleft()
                    self._head_n -= len(batch)
            else:
                assert self._spool is not None
                self._spool.advance(taken[-1][1], n)
            if self.failing_since is not None or self._stall_reported:
                waited = self.clock() - (self.failing_since or self.clock())
                left = self._head_n + self._tail_n + (self._spool.results if self._spool else 0)
                log.warning(
                    "database writes recovered%s; writing %d waiting result(s)",
                    f" after {format_duration(waited)}" if waited >= 1 else "",
                    left,
                )
            self.failing_since = None
            self.failure = None
            self._stall_reported = False
            self._attempt = 0
            self._retry_at = 0.0
            self.stored += n
            if self.health is not None:
                self.health.stored += n
                self.health.last_result = time.monotonic()
            self._cond.notify_all()

    @staticmethod
    def _regroup(written: list[ProbeResult], batches: list[Batch]) -> list[Batch]:
        if len(written) == sum(len(b) for b in batches):
            return batches
        keep = {id(r) for r in written}
        return [kept for b in batches if (kept := [r for r in b if id(r) in keep])]

    def _feed(self, batch: Batch) -> None:
        for sink in self.sinks:
            try:
                sink.on_results(batch)
            except StorageError as exc:
                log.debug("%s could not use the database: %s", type(sink).__name__, exc)
            except Exception:
                log.exception("%s failed on a batch of results", type(sink).__name__)
