"""brownout against a real LLM server: llama.cpp's `llama-server` with SmolLM2-135M-Instruct.

What the simulator cannot show: a real server's connection handling (it closes the connection
after each streamed answer although it says keep-alive), its real token stream, and its own
measurement of each call (`timings`), which brownout's TTFT and tokens/s must agree with.
"""

from __future__ import annotations

import statistics
from collections import Counter

import pytest

from monitor.canaries.defaults import DEFAULT_CANARIES
from monitor.config import CanaryConfig, Config, ProviderConfig
from monitor.probe import run_probe
from monitor.result import Outcome, ProbeResult
from monitor.runner import make_client
from monitor.target import Target
from tests.factories import tool_canary
from tests.providers.conftest import MODEL_ALIAS, LlamaServer

pytestmark = pytest.mark.slow

COUNT = CanaryConfig.model_validate(next(c for c in DEFAULT_CANARIES if c["name"] == "count"))
PROBES = 60


def _config(llama: LlamaServer) -> Config:
    provider = ProviderConfig(kind="openai", base_url=llama.url, models=[MODEL_ALIAS])
    return Config(providers={"llama": provider})


def _target(config: Config) -> Target:
    return config.targets()[0]


async def _probe_many(llama: LlamaServer, n: int) -> list[ProbeResult]:
    config = _config(llama)
    target = _target(config)
    async with make_client(config) as client:  # the monitor's own pooled client
        return [await run_probe(client, target, COUNT, timeout=60.0) for _ in range(n)]


@pytest.mark.timeout(600)  # 60 real generations: past the 120 s default on a loaded machine
async def test_sixty_probes_in_a_row_are_all_answered_and_none_is_a_connection_error(
    llama: LlamaServer,
) -> None:
    found = await _probe_many(llama, PROBES)
    outcomes = Counter(r.outcome.value for r in found)
    assert outcomes == {"ok": PROBES}, [r.error for r in found if not r.ok]
    retried = [r for r in found if r.retry_reason]
    print(
        f"\n{PROBES} probes of llama-server: {len(retried)} sent again after a dropped connection"
    )
    assert all("reused connection" in (r.retry_reason or "") for r in retried)


async def test_ttft_and_tokens_per_s_agree_with_the_servers_own_timings(
    llama: LlamaServer,
) -> None:
    found = await _probe_many(llama, 20)
    assert all(r.ok for r in found), [r.error for r in found if not r.ok]
    ttft_over_prompt: list[float] = []  # brownout's TTFT minus the server's prompt time, ms
    rate_ratio: list[float] = []  # brownout's tokens/s over the server's decode rate
    for result in found:
        timings = result.extra["server_timings"]
        assert result.output_tokens == timings["predicted_n"]
        assert result.ttft_ms is not None and result.tokens_per_s is not None
        ttft_over_prompt.append(result.ttft_ms - timings["prompt_ms"])
        rate_ratio.append(result.tokens_per_s / timings["predicted_per_second"])
    overhead = statistics.median(ttft_over_prompt)
    ratio = statistics.median(rate_ratio)
    print(
        f"\nTTFT - server prompt_ms: median {overhead:.1f} ms; "
        f"tokens/s / server's: median {ratio:.3f} (min {min(rate_ratio):.3f}, "
        f"max {max(rate_ratio):.3f})"
    )
    # TTFT holds the server's prompt time plus its first decode and the loopback trip: never
    # less than the prompt time, and not a second more.
    assert 0.0 <= overhead < 1000.0
    # Both rates time the same tokens over nearly the same span.
    assert 0.8 < ratio < 1.25


async def test_a_killed_server_is_a_connection_error_and_its_restart_is_ok_again(
    llama: LlamaServer,
) -> None:
    config = _config(llama)
    target = _target(config)
    async with make_client(config) as client:
        before = await run_probe(client, target, COUNT, timeout=60.0)
        llama.kill()
        during = await run_probe(client, target, COUNT, timeout=60.0)
        llama.start()
        after = [await run_probe(client, target, COUNT, timeout=60.0) for _ in range(3)]
    assert before.outcome is Outcome.OK
    assert during.outcome is Outcome.CONNECTION_ERROR
    assert during.retry_reason is None  # a refused connection is not a dropped kept-alive one
    assert [r.outcome for r in after] == [Outcome.OK] * 3


@pytest.mark.parametrize("tool_choice", ["auto", "required"])
async def test_a_tool_canary_is_accepted_answered_and_checked_by_the_real_server(
    llama: LlamaServer, tool_choice: str
) -> None:
    """llama-server (jinja templates on by default) takes the OpenAI `tools` request as
    brownout sends it; SmolLM2-135M answers in text, so the check says `no_tool_call`, not a
    failure of the server (docs/providers.md)."""
    config = _config(llama)
    async with make_client(config) as client:
        result = await run_probe(
            client, _target(config), tool_canary(tool_choice=tool_choice), timeout=60.0
        )
    assert result.http_status == 200
    assert result.outcome.answered, result.error
    assert result.tool_check is not None
    print(f"\nSmolLM2 with tool_choice {tool_choice}: {result.tool_check}: {result.answer!r}")
