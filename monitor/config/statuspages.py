"""`statuspages:` — the providers' own public status pages to poll. Owned by monitor/api."""

from __future__ import annotations

from monitor.config.schema import Strict


class StatusPagesConfig(Strict):
    """Polling of official Statuspage-style JSON; filled in by the API issue."""
