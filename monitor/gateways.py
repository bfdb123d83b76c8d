"""The transfer switch's ranking in gateways' own formats: a LiteLLM router config block and an
OpenRouter provider-routing request fragment. Pure: an `monitor.route.Answer` and the config's
targets in, plain data out. No key is ever written: LiteLLM's `api_key` names an environment
variable (`os.environ/OPENAI_API_KEY`), resolved where LiteLLM runs.

LiteLLM (its proxy `config.yaml`, or `Router(**block)`):

    model_list:                       # one deployment per ranked target, in rank order
      - model_name: openai/gpt-4o-mini
        litellm_params: {model: openai/gpt-4o-mini, api_base: …, api_key: os.environ/OPENAI_API_KEY}
    router_settings:
      model_group_alias: {fast-small: openai/gpt-4o-mini}    # the family's name → the best now
      fallbacks: [{openai/gpt-4o-mini: [anthropic/claude-haiku-4-5, …]}]   # then the rest, in order

OpenRouter (merged into a chat completion request's body):

    {"provider": {"order": ["openai", "anthropic"], "allow_fallbacks": true, "ignore": [...],
                  "preferred_max_latency": {"p90": 0.8}, "preferred_min_throughput": {"p50": 40}},
     "models": [...]}                 # only for targets probed through OpenRouter itself
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from monitor.route import Answer, Entry
from monitor.target import Target

# brownout's wire kinds as LiteLLM's provider prefixes (`openai/…` covers every OpenAI-compatible
# server given its `api_base`).
LITELLM_PREFIX = {"openai": "openai", "anthropic": "anthropic", "gemini": "gemini"}
DEFAULT_GROUP = "brownout"  # the alias when every target was ranked (no family)


def key_variable(provider: str) -> str:
    """The environment variable a gateway reads the provider's key from: `OPENAI_API_KEY` for
    `openai`, `MY_VLLM_API_KEY` for `my-vllm`."""
    return re.sub(r"[^A-Za-z0-9]+", "_", provider).strip("_").upper() + "_API_KEY"


def _callable(answer: Answer, targets: Sequence[Target]) -> list[tuple[Entry, Target]]:
    """The ranked entries that a gateway can call: configured targets of a known kind."""
    by_name = {t.name: t for t in targets}
    return [
        (e, by_name[e.candidate.target])
        for e in answer.targets
        if e.candidate.target in by_name and by_name[e.candidate.target].kind in LITELLM_PREFIX
    ]


def litellm(answer: Answer, targets: Sequence[Target]) -> dict[str, Any]:
    """A LiteLLM router config block: `model_list` (one deployment per callable ranked target,
    its model group named as the target) and `router_settings` with `model_group_alias` (the
    family's name calls the best target now) and `fallbacks` (each target falls back to those
    ranked below it). Targets that are down are left out; so are targets without config."""
    ranked = _callable(answer, targets)
    model_list = []
    for _entry, target in ranked:
        params: dict[str, Any] = {
            "model": f"{LITELLM_PREFIX[target.kind]}/{target.model}",
            "api_base": target.base_url,
        }
        if target.api_key:
            params["api_key"] = f"os.environ/{key_variable(target.provider)}"
        model_list.append({"model_name": target.name, "litellm_params": params})
    names = [t.name for _, t in ranked]
    settings: dict[str, Any] = {"routing_strategy": "simple-shuffle"}
    if names:
        settings["model_group_alias"] = {answer.family or DEFAULT_GROUP: names[0]}
    settings["fallbacks"] = [{name: names[i + 1 :]} for i, name in enumerate(names[:-1])]
    return {"model_list": model_list, "router_settings": settings}


def _through_openrouter(target: Target) -> bool:
    return "openrouter.ai" in target.base_url


def openrouter(answer: Answer, targets: Sequence[Target]) -> dict[str, Any]:
    """An OpenRouter request fragment: `provider.order` the providers of the ranked targets,
    best first (brownout's provider names, which must be OpenRouter's provider slugs to mean the
    same there), `provider.ignore` the providers with every ranked target down, the tail
    preferences as `preferred_max_latency` (seconds, p90) and `preferred_min_throughput` (p50),
    and `models`, the fallback list of the models probed through OpenRouter itself."""
    by_name = {t.name: t for t in targets}
    order: list[str] = []
    models: list[str] = []
    for e in answer.targets:
        target = by_name.get(e.candidate.target)
        if target is not None and _through_openrouter(target):
            models.append(target.model)
        elif e.candidate.provider not in order:
            order.append(e.candidate.provider)
    down = {e.candidate.provider for e in answer.excluded} - set(order)
    through = {t.provider for t in targets if _through_openrouter(t)}
    provider: dict[str, Any] = {"order": order, "allow_fallbacks": True}
    ignore = sorted(down - through)
    if ignore:
        provider["ignore"] = ignore
    prefs = answer.preferences
    if prefs.max_ttft_p90_ms is not None:
        provider["preferred_max_latency"] = {"p90": round(prefs.max_ttft_p90_ms / 1000, 3)}
    if prefs.min_tokens_per_s is not None:
        provider["preferred_min_throughput"] = {"p50": prefs.min_tokens_per_s}
    fragment: dict[str, Any] = {"provider": provider}
    if models:
        fragment["models"] = models
    return fragment
