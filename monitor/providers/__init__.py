"""Wire protocols, one module each. `KINDS` maps a config `kind` to its provider class.

Adding a provider is one file here and one line below.
"""

from __future__ import annotations

from monitor.providers.base import Prompt, Provider, Reply

KINDS: dict[str, type[Provider]] = {}


def register(cls: type[Provider]) -> type[Provider]:
    KINDS[cls.kind] = cls
    return cls


def provider_for(kind: str) -> Provider:
    return KINDS[kind]()


# One line per wire protocol (each module decorates its class with @register).
from monitor.providers import anthropic, gemini, openai  # noqa: E402, F401

__all__ = ["KINDS", "Prompt", "Provider", "Reply", "provider_for", "register"]
