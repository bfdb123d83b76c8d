"""Recent deliveries, as lines for `brownout status` (addresses masked, errors scrubbed)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from monitor.alerts import messages
from monitor.config import Config
from monitor.result import format_ts
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


def section(store: Store, config: Config, limit: int = 10) -> dict[str, Any] | None:
    """The alerts part of `brownout status --json`: counts per status and the newest deliveries
    (addresses masked). None when there are no channels and nothing was ever queued."""
    counts = outbox.counts(store)
    if not counts and not config.alerts:
        return None
    recent = [
        {
            "ts": format_ts(row.delivered_at or row.last_attempt_at or row.created_at),
            "channel": row.channel,
            "address": row.address,
            "status": row.status,
            "attempts": row.attempts,
            "title": row.title or messages.render(row.event_list()).title,
            "error": row.last_error if row.status != DELIVERED else None,
            "line": _line(row),
        }
        for row in outbox.recent(store, limit)
    ]
    return {"channels": [c.name for c in config.alerts], "counts": counts, "recent": recent}


def render_section(value: dict[str, Any]) -> list[str]:
    """`section`'s value as the text `brownout status` prints."""
    counts = value["counts"]
    order = [DELIVERED, PENDING, SENDING, FAILED]
    tally = ", ".join(f"{counts.get(s, 0)} {s}" for s in order if counts.get(s) or s != SENDING)
    lines = [f"alerts ({len(value['channels'])} channel(s)): {tally}"]
    lines += [f"  {entry['line']}" for entry in value["recent"]] or ["  no deliveries yet"]
    return lines
