"""The switch's ranking as a LiteLLM router config and an OpenRouter provider-routing fragment:
`brownout route --format litellm|openrouter` over a real SQLite store."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import pytest
import yaml

from monitor.cli import main
from monitor.gateways import key_variable
from tests.factories import SECRET, Seed

OPENAI, ANTHROPIC, GEMINI, LOCAL = (
    "openai/gpt-4o-mini",
    "anthropic/claude-haiku-4-5",
    "gemini/gemini-2.5-flash",
    "my-vllm/qwen3-8b",
)
# What LiteLLM's router takes (litellm.Router's `routing_strategy` values, and the settings
# this block uses), from LiteLLM's documented config schema.
ROUTING_STRATEGIES = {
    "simple-shuffle",
    "least-busy",
    "usage-based-routing",
    "latency-based-routing",
    "cost-based-routing",
    "usage-based-routing-v2",
}


@pytest.fixture
def config_path(tmp_path: Path, sqlite_url: str) -> str:
    path = tmp_path / "probes.yaml"
    provider = {"api_key": SECRET}
    path.write_text(
        yaml.safe_dump(
            {
                "storage": {"url": sqlite_url},
                "providers": {
                    "openai": {
                        "kind": "openai",
                        "base_url": "http://127.0.0.1:9/v1",
                        "models": ["gpt-4o-mini"],
                        **provider,
                    },
                    "anthropic": {
                        "kind": "anthropic",
                        "base_url": "http://127.0.0.1:9",
                        "models": ["claude-haiku-4-5"],
                        **provider,
                    },
                    "gemini": {
                        "kind": "gemini",
                        "base_url": "http://127.0.0.1:9",
                        "models": ["gemini-2.5-flash"],
                        **provider,
                    },
                    "my-vllm": {  # a local server: no key
                        "kind": "openai",
                        "base_url": "http://127.0.0.1:8000/v1",
                        "models": ["qwen3-8b"],
                    },
                },
                "families": {"small": [OPENAI, ANTHROPIC, GEMINI, LOCAL]},
            }
        )
    )
    return str(path)


@pytest.fixture
def ranked(seed: Seed) -> list[str]:
    """Four targets: anthropic fastest, then my-vllm, then openai; gemini down."""
    seed(ANTHROPIC, ["ok"] * 6, ttft_ms=150.0)
    seed(LOCAL, ["ok"] * 6, ttft_ms=300.0)
    seed(OPENAI, ["ok"] * 6, ttft_ms=900.0)
    seed(GEMINI, ["overloaded"] * 6)
    return [ANTHROPIC, LOCAL, OPENAI]


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(["route", *args])
    return code, capsys.readouterr().out


def test_the_litellm_block_follows_litellms_router_config_schema(
    config_path: str, ranked: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = _run(
        capsys,
        "--config",
        config_path,
        "--family",
        "small",
        "--need",
        "fast",
        "--format",
        "litellm",
    )

    assert code == 0
    assert out.startswith("# brownout route --format litellm: small, need=fast")
    block = yaml.safe_load(out)
    assert set(block) == {"model_list", "router_settings"}
    deployments = block["model_list"]
    assert [d["model_name"] for d in deployments] == ranked  # rank order; gemini is down
    for d in deployments:
        assert set(d) == {"model_name", "litellm_params"}
        assert isinstance(d["litellm_params"]["model"], str)
    params = {d["model_name"]: d["litellm_params"] for d in deployments}
    assert params[ANTHROPIC] == {
        "model": "anthropic/claude-haiku-4-5",
        "api_base": "http://127.0.0.1:9",
        "api_key": "os.environ/ANTHROPIC_API_KEY",
    }
    assert params[LOCAL] == {"model": "openai/qwen3-8b", "api_base": "http://127.0.0.1:8000/v1"}
    settings = block["router_settings"]
    assert settings["routing_strategy"] in ROUTING_STRATEGIES
    assert settings["model_group_alias"] == {"small": ANTHROPIC}
    assert settings["fallbacks"] == [{ANTHROPIC: [LOCAL, OPENAI]}, {LOCAL: [OPENAI]}]
    names = set(params)
    for chain in settings["fallbacks"]:
        [(first, rest)] = chain.items()
        assert first in names and set(rest) <= names
    assert SECRET not in out


def test_the_openrouter_fragment_orders_providers_and_carries_the_tail_preferences(
    config_path: str, ranked: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = _run(
        capsys,
        *("--config", config_path, "--family", "small", "--need", "fast"),
        *("--format", "openrouter", "--max-ttft-p90", "800ms", "--min-tokens-per-s", "30"),
    )

    assert code == 0
    fragment = json.loads(out)
    assert fragment == {
        "provider": {
            # openai misses the TTFT preference, so it ranks last of the healthy ones
            "order": ["anthropic", "my-vllm", "openai"],
            "allow_fallbacks": True,
            "ignore": ["gemini"],
            "preferred_max_latency": {"p90": 0.8},
            "preferred_min_throughput": {"p50": 30.0},
        }
    }


def test_json_is_the_old_json_flag_and_two_formats_are_refused(
    config_path: str, ranked: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    _, old = _run(capsys, "--config", config_path, "--family", "small", "--json")
    _, new = _run(capsys, "--config", config_path, "--family", "small", "--format", "json")

    strip = lambda text: {**json.loads(text), "generated_at": None}  # noqa: E731
    assert strip(old) == strip(new)
    code = main(["route", "--config", config_path, "--json", "--format", "litellm"])
    assert code == 2
    assert "ask for two formats" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("flag", "value", "message"),
    [
        ("--max-ttft-p90", "quick", "--max-ttft-p90: "),
        ("--min-tokens-per-s", "-1", "--min-tokens-per-s must be a number above 0"),
    ],
)
def test_a_bad_tail_preference_on_the_command_line_is_exit_2_in_one_sentence(
    config_path: str, capsys: pytest.CaptureFixture[str], flag: str, value: str, message: str
) -> None:
    code = main(["route", "--config", config_path, flag, value])

    err = capsys.readouterr().err
    assert code == 2
    assert message in err and err.count("\n") == 1


@pytest.mark.parametrize(
    ("provider", "variable"),
    [("openai", "OPENAI_API_KEY"), ("my-vllm", "MY_VLLM_API_KEY"), ("x.ai", "X_AI_API_KEY")],
)
def test_the_key_variable_is_named_for_the_provider(provider: str, variable: str) -> None:
    assert key_variable(provider) == variable


def test_real_litellm_loads_the_block_and_picks_the_best_target(
    config_path: str,
    ranked: list[str],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # LiteLLM fetches its model price list from the internet at import unless told not to.
    monkeypatch.setenv("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    with warnings.catch_warnings():  # its own pydantic models warn as they are built
        warnings.simplefilter("ignore")
        litellm = pytest.importorskip(
            "litellm", reason="litellm is not installed (pip install litellm; it is large)"
        )
    for name in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY"):
        monkeypatch.setenv(name, "fake-key")
    _, out = _run(capsys, "--config", config_path, "--family", "small", "--format", "litellm")
    block: dict[str, Any] = yaml.safe_load(out)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        router = litellm.Router(model_list=block["model_list"], **block["router_settings"])
        picked = router.get_available_deployment(model="small")
        fallback = router.get_available_deployment(model=LOCAL)

    assert picked["model_name"] == ANTHROPIC
    assert picked["litellm_params"]["model"] == "anthropic/claude-haiku-4-5"
    assert fallback["litellm_params"] == {
        **fallback["litellm_params"],
        "model": "openai/qwen3-8b",
        "api_base": "http://127.0.0.1:8000/v1",
    }
    assert list(router.settings().fallbacks) == block["router_settings"]["fallbacks"]
