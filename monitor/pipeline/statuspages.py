"""Polling the providers' public status pages into the store.

    async with httpx.AsyncClient() as client:
        await poll_statuspages(client, store, config)   # once; `run` schedules it every interval

A page that cannot be read is logged and skipped: a provider's status page being down is not
brownout's failure, and the next poll tries again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING, Any

import httpx

from monitor.result import utcnow
from monitor.statuspages.formats import Reading, detect, read, siblings
from monitor.store import statuspages as stored

if TYPE_CHECKING:
    from monitor.config import Config
    from monitor.config.statuspages import StatusPage
    from monitor.store import Store

log = logging.getLogger(__name__)


async def _get_json(client: httpx.AsyncClient, url: str, wait_s: float) -> Any:
    response = await client.get(url, timeout=wait_s, headers={"accept": "application/json"})
    response.raise_for_status()
    return response.json()


async def poll_page(
    client: httpx.AsyncClient, name: str, page: StatusPage, wait_s: float, seen_at: datetime
) -> Reading:
    """Read one page, in its format (`page.format`, or told by the body when `auto`). Raises
    httpx.HTTPError or ValueError when it cannot be read; a sibling document that cannot be
    read is logged and done without.

    With `components` patterns, only matching components are kept, and only incidents that
    affect one of them (or name no component, so could be any): a `claude.ai` incident is not
    an API incident to measure lead time against.
    """

    def wanted(component: str) -> bool:
        return any(fnmatchcase(component, p) for p in page.components)

    body = await _get_json(client, page.url, wait_s)
    fmt = detect(body) if page.format == "auto" else page.format
    extra: dict[str, Any] = {}
    for role, url in siblings(fmt, page.url).items():
        try:
            extra[role] = await _get_json(client, url, wait_s)
        except (httpx.HTTPError, ValueError) as exc:
            log.info("status page %s: %s not readable (%s); reading without it", name, url, exc)
    reading = read(fmt, name, body, extra, seen_at)
    if page.components:
        reading.components = [c for c in reading.components if wanted(c.name)]
        reading.incidents = [
            i for i in reading.incidents if not i.components or any(wanted(c) for c in i.components)
        ]
    return reading


async def poll_statuspages(
    client: httpx.AsyncClient,
    store: Store,
    config: Config,
    *,
    clock: Callable[[], datetime] = utcnow,
) -> dict[str, str | None]:
    """Poll every configured page once, concurrently, and store what was read.

    Returns, per page, None when it was stored or a one-line reason why not. Never raises for a
    page that cannot be read.
    """
    pages = config.statuspages.pages
    timeout = config.statuspages.timeout

    async def one(name: str, page: StatusPage) -> str | None:
        seen_at = clock()
        try:
            reading = await poll_page(client, name, page, timeout, seen_at)
        except (httpx.HTTPError, ValueError) as exc:
            reason = f"{type(exc).__name__}: {exc}".splitlines()[0]
            log.warning("status page %s (%s) not read: %s", name, page.url, reason)
            return reason
        await asyncio.to_thread(
            stored.save_poll,
            store,
            name,
            reading.components,
            reading.incidents,
            seen_at,
            resolve_missing=reading.lists_only_open,
        )
        return None

    outcomes = await asyncio.gather(*(one(n, p) for n, p in pages.items()))
    return dict(zip(pages, outcomes, strict=True))
