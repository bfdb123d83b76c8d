"""Model-identity drift against a real server: llama.cpp's `llama-server` gives real
log-probabilities. The same SmolLM2 weights probed twice are not flagged; the same model
re-quantised (Q4_1 → Q4_0, `tools/ensure-llama-server --requantised`) behind the same alias on
the same port is.

The server runs on one thread and is slow, so the windows are small: 8 probes of reference and
8 of the current window. With 16 answers there are C(16, 8) = 12,870 splits, every one counted
(an exact test), so the smallest p-value possible is 2 / 12,870 ≈ 1.6e-4 (the true split and its
mirror); the level here is 0.01, not the monitor's monthly Bonferroni level, and the p-values are
printed."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from monitor.config import CanaryConfig, Config, ProviderConfig
from monitor.config.detection import DetectionConfig
from monitor.detect.drift import logprob_test
from monitor.detect.engine import replay
from monitor.detect.types import Status
from monitor.probe import run_probe
from monitor.result import ProbeResult
from monitor.runner import make_client
from tests.providers.conftest import ENSURE, MODEL_ALIAS, LlamaServer

pytestmark = pytest.mark.slow

N = 8
ALPHA = 0.01
DRIFT = CanaryConfig(
    name="drift",
    prompt="What is the capital of France? Reply with one word.",
    expect={"regex": "."},
    max_tokens=1,
    logprobs=10,
)


@pytest.fixture(scope="module")
def requantised() -> Path:
    done = subprocess.run(
        [str(ENSURE), "--requantised", "--cached"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(done.stderr.strip() or "no re-quantised model")
    return Path(done.stdout.split()[0])


@pytest.fixture
def server(llama: LlamaServer) -> Iterator[LlamaServer]:
    yield llama
    if llama.process is None or llama.process.poll() is not None:
        llama.start()  # the module's server again, for the tests after this one


async def _probe(llama: LlamaServer, n: int) -> list[ProbeResult]:
    provider = ProviderConfig(kind="openai", base_url=llama.url, models=[MODEL_ALIAS])
    config = Config(providers={"llama": provider})
    target = config.targets()[0]
    async with make_client(config) as client:
        found = [await run_probe(client, target, DRIFT, timeout=120.0) for _ in range(n)]
    assert all(r.outcome.answered for r in found), [r.error for r in found]
    assert all(r.top_logprobs for r in found), "llama-server sent no top_logprobs"
    return found


def _timed(results: list[ProbeResult]) -> list[ProbeResult]:
    """The results one a minute, as a monitor would have them (detection reads their ts)."""
    t0 = results[0].ts
    for i, result in enumerate(results):
        result.ts = t0 + timedelta(minutes=i)
    return results


CONFIG = DetectionConfig.model_validate(
    {"model_change": {"reference": N, "window": N, "alpha": ALPHA}}
)


async def test_the_same_weights_probed_again_are_not_flagged(server: LlamaServer) -> None:
    first, second = await _probe(server, N), await _probe(server, N)
    test = logprob_test(
        [r.top_logprobs or [] for r in first], [r.top_logprobs or [] for r in second], ALPHA
    )
    print(
        f"\nsame weights: p = {test.p_value:.4g} ({test.permutations} splits, exact={test.exact})"
    )
    assert test.p_value > ALPHA
    transitions = replay(_timed(first + second), CONFIG)
    assert [t.new for t in transitions] == [Status.OPERATIONAL]


async def test_a_requantised_model_behind_the_same_alias_is_flagged(
    server: LlamaServer, requantised: Path, tmp_path: Path
) -> None:
    before = await _probe(server, N)
    server.stop()
    other = LlamaServer(server.binary, requantised, tmp_path / "q4_0.log")
    other.port = server.port  # the same URL and the same alias: only the weights differ
    other.start()
    try:
        after = await _probe(other, N)
    finally:
        other.stop()
    assert {r.response_model for r in before} == {r.response_model for r in after}
    test = logprob_test(
        [r.top_logprobs or [] for r in before], [r.top_logprobs or [] for r in after], ALPHA
    )
    print(
        f"\nQ4_1 -> Q4_0: p = {test.p_value:.4g} ({test.permutations} splits, "
        f"exact={test.exact}); moved: {test.evidence}"
    )
    assert test.p_value <= ALPHA
    transitions = replay(_timed(before + after), CONFIG)
    [alarm] = [t for t in transitions if t.new is Status.DEGRADED]
    assert alarm.reasons == ["model_change"]
    assert alarm.details["model_change"]["field"] == "logprobs"
