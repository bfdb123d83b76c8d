"""Opening the database for `report` and `export`, which only read it."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from monitor.config import Config
from monitor.errors import UsageError
from monitor.store import Store, open_store


def open_for_reading(config: Config) -> Store:
    """The configured database; a SQLite file that does not exist is a UsageError, not a new file
    (a report of an empty database made by a typo in BROWNOUT_DB would mislead)."""
    url = config.storage.url
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise UsageError(f"{url!r} is not a database URL") from None
    database = parsed.database or ""
    local = parsed.get_backend_name() == "sqlite" and database not in ("", ":memory:")
    if local and not Path(database).exists():
        raise UsageError(f"there is no database at {database}; set BROWNOUT_DB or storage.url")
    return open_store(url)
