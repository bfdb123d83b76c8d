"""The outbox delivery loop: claim what is due, send it through Apprise in a thread, mark it.

Guarantees, and the one choice they force:
- Nothing is lost: a row is written before anything is sent, and stays until it is delivered
  or, after `max_attempts` failed attempts with exponential backoff (30 s, 1 m, 2 m … capped at
  1 h), is marked `failed` with its last error. A destination Apprise cannot use at all is marked
  `failed` at once.
- Nothing is sent twice in normal operation: a row is claimed (`sending`, attempts+1) by a
  conditional update that exactly one sender wins, and each destination of a message has its own
  row, so a retry never repeats a message to a destination that already has it.
- Per destination, messages go out in the order they were written: a later message waits while
  an earlier one to the same destination is being retried (degraded, then down, then recovered).
- The crash between sending and marking: a row left `sending` longer than `lease` (10 min by
  default, far above Apprise's timeouts) was claimed by a sender that stopped; a leader takes
  over a claim made under an older fencing token at once (`outbox.due`), as its leader has lost
  the lease. We chose *at least
  once* here: it is sent again, with a line saying it may be a repeat. A lost outage alert costs
  more than a duplicate, and the window for it is the second or so of one send.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from monitor.alerts import channels, messages
from monitor.config import Config
from monitor.store import Store, outbox
from monitor.store.lease import Fenced
from monitor.store.outbox import OutboxRow

log = logging.getLogger(__name__)

BACKOFF_BASE_S = 30.0
BACKOFF_CAP_S = 3600.0
DELIVERED, RETRY, GAVE_UP = "delivered", "retry", "gave up"

Sender = Callable[[channels.Destination, str, str, str], None]


def backoff(attempts: int) -> timedelta:
    """How long to wait after the `attempts`-th failed attempt: 30 s doubling, capped at 1 h."""
    return timedelta(seconds=min(BACKOFF_BASE_S * 2 ** max(attempts - 1, 0), BACKOFF_CAP_S))


class Deliverer:
    """Sends due outbox rows. One per process; `deliver_due` calls do not overlap."""

    def __init__(
        self,
        store: Store,
        config: Config,
        clock: Callable[[], datetime],
        *,
        sender: Sender = channels.send,
        lease: timedelta = timedelta(minutes=10),
        max_attempts: int = 10,
    ) -> None:
        self.store = store
        self.clock = clock
        self.sender = sender
        self.lease = lease
        self.max_attempts = max_attempts
        self._dashboard_url = config.dashboard.url
        self._channels = {c.name: c for c in config.alerts}
        self._destinations = channels.registry(config.alerts)
        self._lock = threading.Lock()

    async def deliver_due(self) -> int:
        """Send every row that is due now, oldest first per destination, in a worker thread
        (Apprise and the database calls block; the event loop times probes). Never raises: a
        database error is logged and the next call tries again. Returns how many were
        delivered. A cancelled call finishes the send in progress and marks it."""
        return await asyncio.to_thread(self.deliver_due_blocking)

    def deliver_due_blocking(self) -> int:
        """`deliver_due` in the calling thread; overlapping calls wait for each other."""
        with self._lock:
            try:
                return self._deliver_due()
            except Fenced as exc:  # another monitor leads now; it delivers what is left
                log.warning("alert delivery stopped: %s", exc)
                return 0
            except Exception:  # the monitor must keep running; the rows stay for the next call
                log.exception("alert delivery failed; will try again")
                return 0

    def _deliver_due(self) -> int:
        now = self.clock()
        rows = sorted(outbox.due(self.store, now, self.lease, limit=200), key=lambda r: r.id or 0)
        if not rows:
            return 0
        queues = outbox.undelivered(self.store)
        blocked: set[tuple[str, int]] = set()
        delivered = 0
        for row in rows:
            key = (row.channel, row.destination)
            queue = queues.get(key, [])
            if key in blocked or (queue and queue[0] != row.id):
                blocked.add(key)  # an earlier message to this destination goes first
                continue
            claimed = outbox.claim(self.store, row, self.clock())
            if claimed is None:
                blocked.add(key)
                continue
            outcome = self._attempt(claimed)
            if outcome == RETRY:
                blocked.add(key)
            elif queue:
                queue.pop(0)  # delivered or given up: the next one may go
            delivered += outcome == DELIVERED
        return delivered

    def _attempt(self, row: OutboxRow) -> str:
        """Send one claimed row and record the outcome: DELIVERED, RETRY or GAVE_UP."""
        assert row.id is not None
        channel = self._channels.get(row.channel)
        dests = self._destinations.get(row.channel, [])
        title = body = ""
        error: str | None
        permanent = False
        if channel is None or row.destination >= len(dests):
            error, permanent = f"channel {row.channel!r} is no longer configured", True
        else:
            dest = dests[row.destination]
            rendered = messages.render(
                row.event_list(),
                dashboard_url=self._dashboard_url,
                fleet_threshold=channel.fleet_threshold,
                resent=row.resent,
            )
            title, body = rendered.title, rendered.body
            try:
                self.sender(dest, title, body, rendered.notify_type)
                error = None
            except channels.PermanentFailure as exc:
                error, permanent = str(exc), True
            except Exception as exc:  # any failure of one send is stored on its row
                error = dest.scrub(str(exc) or type(exc).__name__)
        now = self.clock()
        retry_at = None
        if error is not None and not permanent and row.attempts < self.max_attempts:
            retry_at = now + backoff(row.attempts)
        if not outbox.finish(
            self.store, row.id, now, title=title, body=body, error=error, retry_at=retry_at
        ):
            log.warning(
                "alert to %s (%s): the claim was taken over by a newer leader; its attempt counts",
                row.channel,
                row.address,
            )
            return RETRY
        if error is None:
            log.info("alert delivered to %s (%s): %s", row.channel, row.address, title)
        elif retry_at is not None:
            log.warning(
                "alert to %s (%s) failed (attempt %d), retrying at %s: %s",
                row.channel,
                row.address,
                row.attempts,
                retry_at.isoformat(),
                error,
            )
        else:
            log.error("alert to %s (%s) failed for good: %s", row.channel, row.address, error)
        if error is None:
            return DELIVERED
        return RETRY if retry_at is not None else GAVE_UP
