"""`brownout once` with the standard OTEL_* variables set exports every probe to a loopback
OTLP/HTTP collector as the GenAI semantic conventions name, measure and bucket it, with the
values the stored results hold."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from monitor.cli import main
from monitor.commands.run import serve_monitor
from monitor.result import Outcome, ProbeResult
from monitor.simulator import SimulatorHandle
from monitor.store import Store, open_store, results
from tests.factories import sim_config
from tests.telemetry.conftest import Collector, attributes

KEY = "sk-fake-otel-key-0123456789abcdefXYZ"  # a fake key
HEADER = "Basic ZmFrZS1sYW5nZnVzZS1kdW1teQ=="  # a fake collector credential

# Written out from the GenAI semantic conventions (their metrics, client inference and token
# metrics pages), not taken from brownout's own constants.
SECONDS = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92]
TOKENS = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864]
SCENARIO = {
    "answers": {"Count": "one two three four five"},
    "defaults": {"ttft": "120ms", "tokens_per_s": 200},
}


def _write_config(tmp_path: Path, sim: SimulatorHandle, **sections: Any) -> str:
    providers = {
        kind: {
            "kind": kind,
            "base_url": sim.base_url(kind),
            "api_key": KEY,
            "models": [f"{kind}-model"],
        }
        for kind in ("openai", "anthropic", "gemini")
    }
    data = {
        "storage": {"url": f"sqlite:///{tmp_path / 'brownout.db'}"},
        "providers": providers,
        "canaries": [
            {"name": "count", "prompt": "Count from 1 to 5.", "expect": {"contains": "five"}},
        ],
        **sections,
    }
    path = tmp_path / "probes.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return str(path)


def _once(tmp_path: Path, config: str) -> list[ProbeResult]:
    assert main(["once", "--config", config]) == 0
    store = open_store(f"sqlite:///{tmp_path / 'brownout.db'}")
    try:
        return list(results.between(store))
    finally:
        store.close()


@pytest.fixture
def otel_env(monkeypatch: pytest.MonkeyPatch, collector: Collector) -> Callable[..., None]:
    def set_env(**extra: str) -> None:
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", collector.url)
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_HEADERS", f"Authorization={HEADER}")
        monkeypatch.setenv("OTEL_METRIC_EXPORT_INTERVAL", "600000")  # only the last export
        for name, value in extra.items():
            monkeypatch.setenv(name, value)

    monkeypatch.delenv("OTEL_SEMCONV_STABILITY_OPT_IN", raising=False)
    monkeypatch.delenv("OTEL_SDK_DISABLED", raising=False)
    return set_env


def _points(collector: Collector, name: str) -> list[Any]:
    metrics = collector.metrics()[name]
    kind = metrics[0].WhichOneof("data")
    return [p for m in metrics for p in getattr(m, kind).data_points]


def _point_for(collector: Collector, name: str, result: ProbeResult, **more: Any) -> Any:
    found = [
        p
        for p in _points(collector, name)
        if attributes(p)["brownout.target"] == result.target
        and all(attributes(p).get(k) == v for k, v in more.items())
    ]
    assert len(found) == 1, (name, result.target, more)
    return found[0]


def test_every_probe_goes_out_as_the_conventions_gen_ai_client_metrics(
    tmp_path: Path,
    simulator_factory: Callable[..., SimulatorHandle],
    collector: Collector,
    otel_env: Callable[..., None],
) -> None:
    sim = simulator_factory(SCENARIO)
    otel_env(OTEL_RESOURCE_ATTRIBUTES="deployment.environment.name=test")
    stored = _once(tmp_path, _write_config(tmp_path, sim))
    assert [r.outcome for r in stored] == [Outcome.OK] * 3
    assert collector.requests, "nothing was exported"
    assert collector.headers[-1]["authorization"] == HEADER

    metrics = collector.metrics()
    units = {name: ms[0].unit for name, ms in metrics.items()}
    assert units == {
        "gen_ai.client.operation.duration": "s",
        "gen_ai.client.operation.time_to_first_chunk": "s",
        "gen_ai.client.operation.time_per_output_chunk": "s",
        "gen_ai.client.token.usage": "{token}",
        "brownout.probe.time_to_first_token": "s",
        "brownout.target.status": "1",
        "brownout.canary.pass_rate": "1",
    }
    resource = collector.resource()
    assert resource["service.name"] == "brownout"
    assert resource["deployment.environment.name"] == "test"

    port = int(sim.url.rsplit(":", 1)[1].split("/")[0])
    providers = {"openai": "openai", "anthropic": "anthropic", "gemini": "gcp.gemini"}
    for result in stored:
        duration = _point_for(collector, "gen_ai.client.operation.duration", result)
        assert list(duration.explicit_bounds) == SECONDS
        assert duration.count == 1
        assert result.duration_ms is not None
        assert duration.sum == pytest.approx(result.duration_ms / 1000)
        labels = attributes(duration)
        assert labels == {
            "gen_ai.operation.name": "chat",
            "gen_ai.provider.name": providers[result.provider],
            "gen_ai.request.model": result.model,
            "gen_ai.response.model": result.response_model,
            "server.address": "127.0.0.1",
            "server.port": port,
            "user_agent.synthetic.type": "test",
            "brownout.target": result.target,
            "brownout.canary": "count",
            "brownout.region": "default",
            "brownout.outcome": "ok",
        }
        assert "error.type" not in labels

        first = _point_for(collector, "gen_ai.client.operation.time_to_first_chunk", result)
        assert list(first.explicit_bounds) == SECONDS
        assert result.first_chunk_ms is not None and result.ttft_ms is not None
        assert (first.count, first.sum) == (1, pytest.approx(result.first_chunk_ms / 1000))
        ttft = _point_for(collector, "brownout.probe.time_to_first_token", result)
        assert (ttft.count, ttft.sum) == (1, pytest.approx(result.ttft_ms / 1000))

        chunks = _point_for(collector, "gen_ai.client.operation.time_per_output_chunk", result)
        assert list(chunks.explicit_bounds) == SECONDS
        assert result.chunks is not None and result.last_chunk_ms is not None
        assert chunks.count == result.chunks - 1 >= 4
        assert chunks.sum == pytest.approx((result.last_chunk_ms - result.first_chunk_ms) / 1000)
        assert sum(chunks.bucket_counts) == chunks.count

        for kind, value in (("input", result.input_tokens), ("output", result.output_tokens)):
            usage = _point_for(
                collector, "gen_ai.client.token.usage", result, **{"gen_ai.token.type": kind}
            )
            assert list(usage.explicit_bounds) == TOKENS
            assert (usage.count, usage.sum) == (1, value)

        status = {
            attributes(p)["brownout.status"]: p.as_double
            for p in _points(collector, "brownout.target.status")
            if attributes(p)["brownout.target"] == result.target
        }
        assert status == {"operational": 1.0, "degraded": 0.0, "down": 0.0, "unknown": 0.0}
        passing = _point_for(collector, "brownout.canary.pass_rate", result)
        assert passing.as_double == 1.0

    # The trap: the conventions' first chunk is the first event, brownout's TTFT the first text.
    openai = next(r for r in stored if r.provider == "openai")
    assert openai.ttft_ms is not None and openai.first_chunk_ms is not None
    assert openai.ttft_ms - openai.first_chunk_ms >= 80


def test_no_key_or_collector_credential_is_in_anything_exported(
    tmp_path: Path,
    simulator_factory: Callable[..., SimulatorHandle],
    collector: Collector,
    otel_env: Callable[..., None],
) -> None:
    # Gemini's key goes in the URL's query in some setups; an echoing provider quotes it.
    sim = simulator_factory({**SCENARIO, "keys": ["sk-other-fake"]})  # every key is refused
    otel_env()
    config = _write_config(
        tmp_path,
        sim,
        otel={"headers": {"x-collector-token": "fake-collector-token-123"}},
    )
    stored = _once(tmp_path, config)
    assert {r.outcome for r in stored} == {Outcome.AUTH_ERROR}
    assert collector.requests
    everything = b"".join(collector.bodies)
    for secret in (KEY, KEY[-12:], HEADER, "fake-collector-token-123"):
        assert secret.encode() not in everything
    failed = _points(collector, "gen_ai.client.operation.duration")
    assert {attributes(p)["error.type"] for p in failed} == {"auth_error"}
    # A call that failed says so only where the conventions put error.type.
    if "gen_ai.client.operation.time_to_first_chunk" in collector.metrics():
        for p in _points(collector, "gen_ai.client.operation.time_to_first_chunk"):
            assert "error.type" not in attributes(p)


def test_the_latest_experimental_names_replace_the_old_ones_when_opted_in(
    tmp_path: Path,
    simulator_factory: Callable[..., SimulatorHandle],
    collector: Collector,
    otel_env: Callable[..., None],
) -> None:
    sim = simulator_factory(SCENARIO)
    otel_env(OTEL_SEMCONV_STABILITY_OPT_IN="http,gen_ai_latest_experimental")
    stored = _once(tmp_path, _write_config(tmp_path, sim))
    metrics = collector.metrics()
    assert not [n for n in metrics if n.startswith("gen_ai.client.operation.")]
    assert "gen_ai.client.token.usage" not in metrics
    assert {n for n in metrics if n.startswith("gen_ai.")} == {
        "gen_ai.client.inference.duration",
        "gen_ai.client.inference.time_to_first_chunk",
        "gen_ai.client.inference.time_per_output_chunk",
        "gen_ai.client.inference.usage.input_tokens",
        "gen_ai.client.inference.usage.output_tokens",
        "gen_ai.client.inference.operation.input_tokens",
        "gen_ai.client.inference.operation.output_tokens",
    }
    for result in stored:
        duration = _point_for(collector, "gen_ai.client.inference.duration", result)
        assert list(duration.explicit_bounds) == SECONDS
        assert result.duration_ms is not None
        assert duration.sum == pytest.approx(result.duration_ms / 1000)
        used = _point_for(
            collector,
            "gen_ai.client.inference.usage.input_tokens",
            result,
            **{"gen_ai.token.modality": "text"},
        )
        assert used.as_int == result.input_tokens
        assert metrics["gen_ai.client.inference.usage.input_tokens"][0].sum.is_monotonic
        per_call = _point_for(collector, "gen_ai.client.inference.operation.output_tokens", result)
        assert list(per_call.explicit_bounds) == TOKENS
        assert (per_call.count, per_call.sum) == (1, result.output_tokens)


def test_a_config_section_can_turn_the_export_off_whatever_the_environment_says(
    tmp_path: Path,
    simulator: SimulatorHandle,
    collector: Collector,
    otel_env: Callable[..., None],
) -> None:
    otel_env()
    stored = _once(tmp_path, _write_config(tmp_path, simulator, otel={"enabled": False}))
    assert stored
    assert not collector.arrived.is_set()


def test_without_an_endpoint_nothing_is_exported_and_the_sdk_is_never_loaded(
    tmp_path: Path, simulator: SimulatorHandle, collector: Collector
) -> None:
    config = _write_config(tmp_path, simulator)
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    script = (
        "import sys\n"
        "from monitor.cli import main\n"
        f"code = main(['once', '--config', {config!r}])\n"
        "print(code, sorted(m for m in sys.modules if m.startswith('opentelemetry')))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True
    )
    assert out.stdout.split("\n")[-2] == "0 []"
    assert not collector.arrived.is_set()


async def test_brownout_run_exports_its_probes_as_it_goes(
    store: Store,
    sqlite_url: str,
    simulator: SimulatorHandle,
    collector: Collector,
    otel_env: Callable[..., None],
) -> None:
    otel_env(OTEL_METRIC_EXPORT_INTERVAL="100")
    config = sim_config(simulator, storage={"url": sqlite_url}, schedule={"interval": "1s"})
    stop = asyncio.Event()
    run = asyncio.create_task(serve_monitor(config, store, stop=stop, grace=1.0))
    try:
        # Wait (pytest-timeout is the backstop) until an export holds a probe's duration.
        while "gen_ai.client.operation.duration" not in collector.metrics():
            assert not run.done()
            await asyncio.sleep(0.05)
    finally:
        stop.set()
        await run
    points = _points(collector, "gen_ai.client.operation.duration")
    assert {attributes(p)["brownout.target"] for p in points} == {"sim/gpt-4o-mini"}
    stored = list(results.between(store))
    assert stored and max(p.count for p in points) <= len(stored)
