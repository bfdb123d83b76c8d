"""Helpers for the wire tests: a target pointed at the simulator, and one probe through a provider."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from monitor.config import Config, ProviderConfig
from monitor.providers import Prompt, Reply, provider_for
from monitor.simulator import SimulatorHandle
from monitor.target import Target

KINDS = ["openai", "anthropic", "gemini"]
KEY = "sk-test-abcdefghijklmnop0123456789"  # a fake key


def target_for(
    sim: SimulatorHandle | str, kind: str, model: str = "sim-model", key: str | None = KEY
) -> Target:
    base = sim if isinstance(sim, str) else sim.base_url(kind)
    provider = ProviderConfig(kind=kind, base_url=base, api_key=key, models=[model])
    return Config(providers={kind: provider}).targets()[0]


async def ask(
    client: httpx.AsyncClient,
    sim: SimulatorHandle | str,
    kind: str,
    *,
    model: str = "sim-model",
    key: str | None = KEY,
    prompt: str = "What is 17 * 23? Reply with the number only.",
    max_tokens: int = 16,
    timeout: float = 10.0,  # noqa: ASYNC109 (passed on to Provider.complete)
) -> Reply:
    target = target_for(sim, kind, model, key)
    return await provider_for(kind).complete(
        client, target, Prompt(prompt, max_tokens=max_tokens), timeout=timeout
    )


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as c:
        yield c
