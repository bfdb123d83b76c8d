"""Keeping API keys out of everything brownout stores, logs, exports or shows.

Providers echo keys back (OpenAI's 401 quotes part of the key; a gateway may echo its token in
a header that httpcore logs at --verbose), so every text that came from a provider passes
through `Scrubber.scrub` before it is kept, and every log record passes through the scrubber
of the registered secrets before any handler sees it (`protect_logs`).

The secrets of a config are its providers' `api_key` values and the values of their secret
headers (`secret_header`: Azure's `api-key`, `Authorization`, a gateway's `x-...-token` …).
A secret of any length is replaced wherever it appears whole; one of at least 8 characters
also by any 8-character slice of it (a key shown in part, `sk-abc***wxyz`).
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable
from typing import Any

# Shapes of well-known keys, scrubbed even when brownout was not told about them.
_KEY_SHAPES = re.compile(
    r"(sk-ant-[A-Za-z0-9_\-]{8,}|sk-(?:proj-|or-v1-)?[A-Za-z0-9_\-]{16,}|AIza[0-9A-Za-z_\-]{20,}"
    r"|sk-[A-Za-z0-9_\-]*\*{3,}[A-Za-z0-9_\-]*"
    r"|gsk_[A-Za-z0-9]{16,}|Bearer\s+[A-Za-z0-9._\-]{12,})"
)
REDACTED = "[REDACTED]"
# A provider may echo a key partly ("sk-abc***wxyz"); any 8-character slice of a key is scrubbed.
_MIN_FRAGMENT = 8
# Header names whose values are credentials (matched anywhere in the lower-cased name).
_SECRET_HEADER = re.compile(r"auth|key|token|secret|cookie|session|passw|signature|credential")
# An authorization scheme in front of the credential: the credential alone is a secret too.
_SCHEME = re.compile(r"^(?:bearer|basic|token|apikey|key)\s+", re.IGNORECASE)


def secret_header(name: str) -> bool:
    """Whether a header called `name` carries a credential (its value is scrubbed)."""
    return bool(_SECRET_HEADER.search(name.lower()))


def secret_values(values: Iterable[str]) -> list[str]:
    """`values` and, for `Bearer KEY`-style values, the bare `KEY` too; empty ones dropped."""
    out: list[str] = []
    for value in values:
        value = value.strip()
        if not value:
            continue
        out.append(value)
        bare = _SCHEME.sub("", value)
        if bare and bare != value:
            out.append(bare)
    return out


class Scrubber:
    """Removes the given secrets, their fragments, and anything shaped like a key from text."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets = sorted({s for s in secrets if s}, key=len)[::-1]
        fragments: set[str] = set()
        for secret in self._secrets:
            fragments.update(
                secret[i : i + _MIN_FRAGMENT] for i in range(len(secret) - _MIN_FRAGMENT + 1)
            )
        self._fragments = (
            re.compile("|".join(re.escape(f) for f in sorted(fragments))) if fragments else None
        )

    @property
    def secrets(self) -> list[str]:
        """The secrets this scrubber removes, longest first."""
        return list(self._secrets)

    def scrub(self, text: str | None) -> str | None:
        """`text` with every secret, fragment of a secret and key-shaped token replaced."""
        if not text:
            return text
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        if self._fragments is not None:
            text = self._fragments.sub(REDACTED, text)
        return _KEY_SHAPES.sub(REDACTED, text)


def scrub(text: str | None, secrets: Iterable[str] = ()) -> str | None:
    """One-off form of `Scrubber(secrets).scrub(text)`."""
    return Scrubber(secrets).scrub(text)


# --- Logs ----------------------------------------------------------------------------------------

_lock = threading.Lock()
_log_scrubber = Scrubber()
_installed = False


def protect_logs(secrets: Iterable[str]) -> None:
    """Scrub `secrets` (with key shapes, always) from every log record from now on.

    Installed as the log record factory, so it works at any verbosity and for every handler and
    library (httpcore's debug lines print response headers, which may echo a key): the message,
    its arguments, the formatted exception and the stack are scrubbed when the record is made.
    Secrets accumulate; calling again adds more.
    """
    global _log_scrubber, _installed
    with _lock:
        _log_scrubber = Scrubber([*_log_scrubber.secrets, *secrets])
        if not _installed:
            previous = logging.getLogRecordFactory()

            def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
                record = previous(*args, **kwargs)
                _scrub_record(record)
                return record

            logging.setLogRecordFactory(factory)
            _installed = True


def _scrub_record(record: logging.LogRecord) -> None:
    scrubber = _log_scrubber
    try:
        message = record.getMessage()
    except Exception:  # a bad format string: logging reports it; keep the raw parts scrubbed
        message = f"{record.msg} {record.args}"
    record.msg, record.args = scrubber.scrub(message) or "", None
    if record.exc_info and record.exc_info[1] is not None:
        record.exc_text = scrubber.scrub(logging.Formatter().formatException(record.exc_info))
        record.exc_info = None
    if record.stack_info:
        record.stack_info = scrubber.scrub(record.stack_info)
