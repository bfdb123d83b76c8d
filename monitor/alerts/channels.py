"""Channels and their destinations: the thin transport layer over Apprise.

A channel (`alerts:` entry) has destinations: each of its Apprise URLs, then each Apprise config
file. The outbox keeps one row per message and destination, so a retry never re-sends to a
destination that already has the message. `send` is blocking (Apprise is); callers run it in a
thread. Nothing here logs or returns a URL's secret parts: `Destination.address` is masked and
error texts are scrubbed.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

from monitor.config.alerts import AlertChannel
from monitor.secrets import REDACTED, Scrubber

# Apprise notify types, by what a message is about.
INFO, SUCCESS, WARNING, FAILURE = "info", "success", "warning", "failure"


class _WarningsOnly(logging.Filter):
    """Apprise's debug and info lines, and those of urllib3 under it, quote request URLs with
    their tokens (a Telegram bot token, a Discord webhook secret): only warnings and errors
    pass, scrubbed of anything shaped like a key, whatever level the monitor logs at."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:
            return False
        record.msg, record.args = _scrub(record.getMessage(), []), ()
        return True


for _name in ("apprise", "urllib3.connectionpool"):
    _logger = logging.getLogger(_name)
    if not any(isinstance(f, _WarningsOnly) for f in _logger.filters):
        _logger.addFilter(_WarningsOnly())


class PermanentFailure(Exception):
    """A destination that can never work as configured (Apprise cannot parse it, no service
    matches the tags); the outbox does not retry it."""


@dataclass(frozen=True, slots=True)
class Destination:
    """One place a channel's messages go: an Apprise URL or an Apprise config file (+ tags)."""

    channel: str
    index: int
    url: str | None = None
    config_file: str | None = None
    tags: tuple[str, ...] = ()

    @property
    def address(self) -> str:
        """The destination for people and logs, its secrets masked."""
        if self.url is not None:
            return mask_url(self.url)
        assert self.config_file is not None
        shown = mask_url(self.config_file) if "://" in self.config_file else self.config_file
        return f"config {shown}" + (f" tags {','.join(self.tags)}" if self.tags else "")

    def scrub(self, text: str) -> str:
        """`text` with every part of this destination that may be secret replaced."""
        return _scrub(text, secret_parts(self.url or self.config_file or ""))


def destinations(channel: AlertChannel) -> list[Destination]:
    """The channel's destinations, in a stable order: URLs first, then config files."""
    out = [Destination(channel.name, i, url=url) for i, url in enumerate(channel.urls)]
    out += [
        Destination(channel.name, len(out) + i, config_file=path, tags=tuple(channel.tags))
        for i, path in enumerate(channel.config)
    ]
    return out


def registry(channels: Sequence[AlertChannel]) -> dict[str, list[Destination]]:
    """Channel name → its destinations."""
    return {channel.name: destinations(channel) for channel in channels}


def send(destination: Destination, title: str, body: str, notify_type: str = INFO) -> None:
    """Deliver one message to `destination`. Blocking.

    Returns when Apprise reports success. Raises PermanentFailure when the destination cannot
    work as configured, RuntimeError (with a scrubbed, one-line reason) when this attempt failed.
    """
    import apprise  # here, not at import: ~17 MB that only delivery needs

    instance = apprise.Apprise()
    if destination.url is not None:
        if not instance.add(destination.url):
            raise PermanentFailure("Apprise does not understand this URL")
    else:
        config = apprise.AppriseConfig()
        assert destination.config_file is not None
        if not config.add(destination.config_file):
            raise PermanentFailure("Apprise cannot read this config file")
        instance.add(config)
    tag = list(destination.tags) or apprise.common.MATCH_ALL_TAG
    with apprise.LogCapture(level=logging.WARNING) as captured:  # type: ignore[no-untyped-call]
        try:
            result = instance.notify(body=body, title=title, notify_type=notify_type, tag=tag)
        except Exception as exc:  # a plugin bug must not stop the delivery loop
            raise RuntimeError(destination.scrub(f"{type(exc).__name__}: {exc}")) from None
        logged = captured.getvalue()
    if result is None:
        raise PermanentFailure(
            "no Apprise service matches this destination (check config and tags)"
        )
    if not result:
        raise RuntimeError(destination.scrub(_reason(logged)))


def _reason(logged: str) -> str:
    lines = [line.split(" - ", 2)[-1].strip() for line in logged.splitlines() if line.strip()]
    return "; ".join(lines[-2:]) or "Apprise reported a failure"


def mask_url(url: str) -> str:
    """An Apprise URL with its secrets hidden: Apprise's own privacy form (which knows where
    each service keeps its tokens), without the query, and with the path elided."""
    import apprise

    instance = apprise.Apprise()
    known = bool(instance.add(url))
    shown = instance[0].url(privacy=True) if known else url  # type: ignore[no-untyped-call]
    parts = urlsplit(shown)
    if not parts.scheme:
        return "…"
    netloc = parts.netloc
    if not known:  # no plugin to say where the secrets are: hide all but a dotted host name
        host = parts.hostname or ""
        netloc = "****" if _looks_secret(host) else host + (f":{parts.port}" if parts.port else "")
    path = "/…" if parts.path.strip("/") else ""
    return f"{parts.scheme}://{netloc}{path}"


def secret_parts(url: str) -> list[str]:
    """Every piece of `url` that may be a secret: credentials, tokens in the host or path,
    query values. Over-eager on purpose: error texts lose a little detail, never a key."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return [url]
    found = [parts.username or "", parts.password or ""]
    host = parts.netloc.rpartition("@")[2].partition(":")[0]  # as written: tokens keep their case
    if _looks_secret(host):
        found.append(host)
    found += [seg for seg in parts.path.split("/") if len(seg) >= 4]
    found += [value for _, value in parse_qsl(parts.query) if len(value) >= 4]
    return [f for f in found if len(f) >= 3]


def _looks_secret(host: str) -> bool:
    """Hosts with no dot (slack://TOKEN/…, tgram://BOT_TOKEN/…) are tokens, not host names."""
    return bool(host) and "." not in host and host != "localhost" and not host.startswith("[")


_KEYISH = re.compile(r"[A-Za-z0-9_\-]{24,}")


def _scrub(text: str, secrets: list[str]) -> str:
    for secret in sorted(set(secrets), key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    text = Scrubber().scrub(text) or ""
    return _KEYISH.sub(REDACTED, text)
