"""The OpenTelemetry GenAI semantic conventions brownout exports to, as data: metric names,
units, bucket boundaries and attributes. Pure: no SDK, no store.

Two sets of names. The default is the set published in the semantic conventions up to v1.41
(`gen_ai.client.operation.*`, `gen_ai.client.token.usage`), which most backends chart today.
With `OTEL_SEMCONV_STABILITY_OPT_IN=gen_ai_latest_experimental` (or
`otel.gen_ai_latest_experimental: true`) brownout emits the latest experimental set of the
GenAI conventions' own repository instead (`gen_ai.client.inference.*`, token counters and
per-operation token histograms) and, as the conventions ask, not the old one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from monitor.result import Outcome, ProbeResult
from monitor.target import Target

DURATION_BUCKETS_S = (
    *(0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64),
    *(1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92),
)
"""The conventions' explicit bucket boundaries for every GenAI time (duration, time to first
chunk, time per output chunk)."""
TOKEN_BUCKETS = (
    *(1, 4, 16, 64, 256, 1024, 4096, 16384, 65536),
    *(262144, 1048576, 4194304, 16777216, 67108864),
)
"""The conventions' explicit bucket boundaries for token counts."""

OPT_IN_ENV = "OTEL_SEMCONV_STABILITY_OPT_IN"
OPT_IN_VALUE = "gen_ai_latest_experimental"

OPERATION = "chat"
"""`gen_ai.operation.name`: every canary is a chat completion (OpenAI chat completions,
Anthropic messages, Gemini streamGenerateContent with one user turn)."""
SYNTHETIC = "test"
"""`user_agent.synthetic.type`: brownout's traffic is synthetic test traffic, not users'."""


@dataclass(frozen=True, slots=True)
class Names:
    """One set of metric names (`LEGACY` or `LATEST`)."""

    duration: str
    time_to_first_chunk: str
    time_per_output_chunk: str
    token_usage: str | None = None  # the legacy histogram, with gen_ai.token.type
    input_tokens: str | None = None  # the latest counters, with gen_ai.token.modality
    output_tokens: str | None = None
    operation_input_tokens: str | None = None  # the latest per-operation histograms
    operation_output_tokens: str | None = None


LEGACY = Names(
    duration="gen_ai.client.operation.duration",
    time_to_first_chunk="gen_ai.client.operation.time_to_first_chunk",
    time_per_output_chunk="gen_ai.client.operation.time_per_output_chunk",
    token_usage="gen_ai.client.token.usage",
)
LATEST = Names(
    duration="gen_ai.client.inference.duration",
    time_to_first_chunk="gen_ai.client.inference.time_to_first_chunk",
    time_per_output_chunk="gen_ai.client.inference.time_per_output_chunk",
    input_tokens="gen_ai.client.inference.usage.input_tokens",
    output_tokens="gen_ai.client.inference.usage.output_tokens",
    operation_input_tokens="gen_ai.client.inference.operation.input_tokens",
    operation_output_tokens="gen_ai.client.inference.operation.output_tokens",
)


def latest_opted_in(env: Mapping[str, str]) -> bool:
    """Whether `OTEL_SEMCONV_STABILITY_OPT_IN` (a comma-separated list) asks for the latest set."""
    values = {v.strip() for v in env.get(OPT_IN_ENV, "").split(",")}
    return OPT_IN_VALUE in values


# Hosts whose provider the conventions name (`gen_ai.provider.name` well-known values).
_HOSTS = {
    "api.openai.com": "openai",
    "api.anthropic.com": "anthropic",
    "generativelanguage.googleapis.com": "gcp.gemini",
    "aiplatform.googleapis.com": "gcp.vertex_ai",
    "api.groq.com": "groq",
    "api.deepseek.com": "deepseek",
    "api.mistral.ai": "mistral_ai",
    "api.x.ai": "x_ai",
    "api.perplexity.ai": "perplexity",
    "api.cohere.com": "cohere",
    "api.cohere.ai": "cohere",
    "api.moonshot.ai": "moonshot_ai",
    "api.moonshot.cn": "moonshot_ai",
}
_HOST_SUFFIXES = {
    ".openai.azure.com": "azure.ai.openai",
    ".services.ai.azure.com": "azure.ai.inference",
    "-aiplatform.googleapis.com": "gcp.vertex_ai",
    ".amazonaws.com": "aws.bedrock",
}
# brownout provider names (the config's keys) that name a provider of the conventions.
_NAMES = {
    "openai": "openai",
    "anthropic": "anthropic",
    "gemini": "gcp.gemini",
    "google": "gcp.gemini",
    "vertex": "gcp.vertex_ai",
    "vertex_ai": "gcp.vertex_ai",
    "groq": "groq",
    "deepseek": "deepseek",
    "mistral": "mistral_ai",
    "xai": "x_ai",
    "x_ai": "x_ai",
    "grok": "x_ai",
    "perplexity": "perplexity",
    "cohere": "cohere",
    "moonshot": "moonshot_ai",
    "kimi": "moonshot_ai",
    "azure": "azure.ai.openai",
    "azure_openai": "azure.ai.openai",
    "bedrock": "aws.bedrock",
    "watsonx": "ibm.watsonx.ai",
}


def provider_name(provider: str, base_url: str | None) -> str:
    """`gen_ai.provider.name` for a target: the conventions' well-known value for the host it
    calls (`api.openai.com` → `openai`, `generativelanguage.googleapis.com` → `gcp.gemini`), else
    for brownout's name of the provider (`mistral` → `mistral_ai`), else that name itself (a
    custom value, as the conventions allow: `openrouter`, `ollama`, `llama-server`)."""
    host = (urlsplit(base_url).hostname or "") if base_url else ""
    if host in _HOSTS:
        return _HOSTS[host]
    for suffix, value in _HOST_SUFFIXES.items():
        if host.endswith(suffix):
            return value
    return _NAMES.get(provider.lower(), provider)


def server(base_url: str | None) -> dict[str, str | int]:
    """`server.address` and `server.port` of a target's URL: the host and the port (the scheme's
    default when none is written). Never the path, the query or any user info, which may hold a
    key."""
    if not base_url:
        return {}
    parts = urlsplit(base_url)
    if not parts.hostname:
        return {}
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return {"server.address": parts.hostname}
    return {"server.address": parts.hostname, "server.port": port}


def error_type(outcome: Outcome) -> str | None:
    """`error.type`: brownout's outcome word when the call ended in an error; None for an
    answer, right or wrong (a wrong answer is a complete call: it shows in
    `brownout.canary.pass_rate` and `brownout.outcome`)."""
    return None if outcome.answered else outcome.value


def attributes(result: ProbeResult, target: Target | None) -> dict[str, str | int]:
    """The attributes every GenAI data point of `result` carries: the conventions' common ones,
    the synthetic-traffic mark, and brownout's own (`brownout.target`, `brownout.canary`,
    `brownout.region`). Built from names and the URL's host only: nothing here can hold a key."""
    base_url = target.base_url if target is not None else None
    out: dict[str, str | int] = {
        "gen_ai.operation.name": OPERATION,
        "gen_ai.provider.name": provider_name(result.provider, base_url),
        "gen_ai.request.model": result.model,
        **server(base_url),
        "user_agent.synthetic.type": SYNTHETIC,
        "brownout.target": result.target,
        "brownout.canary": result.canary,
        "brownout.region": result.region,
    }
    if result.response_model:
        out["gen_ai.response.model"] = result.response_model
    return out


def target_attributes(target: str, config_target: Target | None) -> dict[str, str | int]:
    """The attributes of brownout's per-target gauges (status, pass rate, lead time)."""
    provider, _, model = target.partition("/")
    base_url = config_target.base_url if config_target is not None else None
    return {
        "brownout.target": target,
        "gen_ai.provider.name": provider_name(provider, base_url),
        "gen_ai.request.model": model,
    }
