"""brownout's providers in the conventions' words: `gen_ai.provider.name`, `server.*`."""

from __future__ import annotations

import pytest

from monitor.telemetry.conventions import provider_name, server


@pytest.mark.parametrize(
    ("provider", "base_url", "name"),
    [
        ("openai", "https://api.openai.com/v1", "openai"),
        ("oai", "https://api.openai.com/v1", "openai"),
        ("anthropic", "https://api.anthropic.com", "anthropic"),
        ("gemini", "https://generativelanguage.googleapis.com", "gcp.gemini"),
        ("vertex", "https://europe-west4-aiplatform.googleapis.com/v1", "gcp.vertex_ai"),
        ("groq", "https://api.groq.com/openai/v1", "groq"),
        ("mistral", "https://api.mistral.ai/v1", "mistral_ai"),
        ("xai", "https://api.x.ai/v1", "x_ai"),
        ("azure", "https://mine.openai.azure.com/openai", "azure.ai.openai"),
        ("deepseek", "http://127.0.0.1:9/v1", "deepseek"),
        ("openrouter", "https://openrouter.ai/api/v1", "openrouter"),
        ("ollama", "http://127.0.0.1:11434/v1", "ollama"),
    ],
)
def test_the_provider_is_named_by_its_host_then_by_brownouts_name(
    provider: str, base_url: str, name: str
) -> None:
    assert provider_name(provider, base_url) == name


def test_the_server_is_its_host_and_port_never_its_path_query_or_user() -> None:
    got = server("https://user:sk-fake-key@generativelanguage.googleapis.com/v1beta?key=sk-fake")
    assert got == {"server.address": "generativelanguage.googleapis.com", "server.port": 443}
    assert server("http://127.0.0.1:8080/v1") == {
        "server.address": "127.0.0.1",
        "server.port": 8080,
    }
