"""Recent deliveries, as lines for `brownout status` (addresses masked, errors scrubbed)."""

from __future__ import annotations

from datetime import datetime

from monitor.alerts import messages
from monitor.store import Store, outbox
from monitor.store.outbox import DELIVERED, FAILED, PENDING, SENDING, OutboxRow


def delivery_lines(store: Store, limit: int = 10) -> list[str]:
    """The newest `limit` outbox rows, newest first, one line each:

    2026-11-28 10:05:31 UTC  delivered            oncall → json://127.0.0.1:8080/…  openai/gpt-4o-mini is down
    2026-11-28 10:05:31 UTC  retry 2 at 10:06:31  oncall → mailto://…  openai/… is down: Connection refused
    """
    return [_line(row) for row in outbox.recent(store, limit)]


def summary(store: Store) -> str:
    """`alerts: 12 delivered, 1 pending, 0 failed` (every status present)."""
    counts = outbox.counts(store)
    order = [DELIVERED, PENDING, SENDING, FAILED]
    return "alerts: " + ", ".join(
        f"{counts.get(s, 0)} {s}" for s in order if counts.get(s) or s != SENDING
    )


def _line(row: OutboxRow) -> str:
    when = row.delivered_at or row.last_attempt_at or row.created_at
    if row.status == DELIVERED:
        state = "delivered" + (" (resent)" if row.resent else "")
    elif row.status == FAILED:
        state = f"failed after {row.attempts} attempt(s)"
    elif row.status == SENDING:
        state = "sending"
    elif row.attempts:
        state = f"retry {row.attempts + 1} at {_hms(row.due_at)}"
    else:
        state = f"queued for {_hms(row.due_at)}"
    title = row.title or messages.render(row.event_list()).title
    error = f": {row.last_error}" if row.last_error and row.status != DELIVERED else ""
    return (
        f"{when:%Y-%m-%d %H:%M:%S} UTC  {state:<22} {row.channel} → {row.address}  {title}{error}"
    )


def _hms(ts: datetime) -> str:
    return f"{ts:%H:%M:%S}"
