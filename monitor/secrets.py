"""Keeping API keys out of everything brownout stores, logs, exports or shows.

Providers echo keys back (OpenAI's 401 quotes part of the key), so every text that came from a
provider passes through `Scrubber.scrub` before it is kept.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# Shapes of well-known keys, scrubbed even when brownout was not told about them.
_KEY_SHAPES = re.compile(
    r"(sk-ant-[A-Za-z0-9_\-]{8,}|sk-(?:proj-|or-v1-)?[A-Za-z0-9_\-]{16,}|AIza[0-9A-Za-z_\-]{20,}"
    r"|sk-[A-Za-z0-9_\-]*\*{3,}[A-Za-z0-9_\-]*"
    r"|gsk_[A-Za-z0-9]{16,}|Bearer\s+[A-Za-z0-9._\-]{12,})"
)
REDACTED = "[REDACTED]"
# A provider may echo a key partly ("sk-abc***wxyz"); any 8-character slice of a key is scrubbed.
_MIN_FRAGMENT = 8


class Scrubber:
    """Removes the given secrets, their fragments, and anything shaped like a key from text."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets = sorted({s for s in secrets if s and len(s) >= _MIN_FRAGMENT}, key=len)[::-1]
        fragments: set[str] = set()
        for secret in self._secrets:
            fragments.update(
                secret[i : i + _MIN_FRAGMENT] for i in range(len(secret) - _MIN_FRAGMENT + 1)
            )
        self._fragments = (
            re.compile("|".join(re.escape(f) for f in sorted(fragments))) if fragments else None
        )

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
