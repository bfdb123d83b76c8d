"""The anthropic wire protocol (stub: implemented in issue 2)."""

from __future__ import annotations

import httpx

from monitor.config import Target
from monitor.providers import register
from monitor.providers.base import Prompt, Provider, Reply
from monitor.result import Outcome


@register
class AnthropicProvider(Provider):
    kind = "anthropic"

    async def complete(
        self, client: httpx.AsyncClient, target: Target, prompt: Prompt, *, timeout: float
    ) -> Reply:
        return Reply(outcome=Outcome.BAD_RESPONSE, error="not implemented")
