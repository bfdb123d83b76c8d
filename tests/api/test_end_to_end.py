"""`brownout run --http` for real: the simulator browns one provider out and takes another down,
the monitor probes them, detection decides, and the API, metrics and transfer switch say so over
HTTP."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import httpx
import pytest
from openai import AsyncOpenAI
from prometheus_client.parser import text_string_to_metric_families

from monitor.commands.run import serve_monitor
from monitor.config import Config
from monitor.simulator import SimulatorHandle
from monitor.store import Store

pytestmark = pytest.mark.slow

SCENARIO = {
    "name": "anthropic overloaded",
    "defaults": {"ttft": "10ms", "tokens_per_s": 1000},
    "models": {
        "gpt-4o-mini": {},
        "gemini-2.5-flash": {"errors": {"server_error": 0.3}},  # a brownout: partly failing
        "claude-haiku-4-5": {"errors": {"overloaded": 1.0}},  # an outage
    },
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def config_for(sim: SimulatorHandle, url: str) -> Config:
    data: dict[str, Any] = {
        "storage": {"url": url},
        "schedule": {"interval": "1s", "timeout": "5s", "jitter": 0},
        "providers": {
            "openai": {
                "kind": "openai",
                "base_url": sim.openai_url,
                "api_key": "sk-sim-key-0123456789abcdef",  # a fake key
                "models": ["gpt-4o-mini"],
                "price": {"gpt-4o-mini": {"input": 0.15, "output": 0.6}},
            },
            "gemini": {
                "kind": "gemini",
                "base_url": sim.url,
                "api_key": "AIzaSim-0123456789abcdefghij",
                "models": ["gemini-2.5-flash"],
            },
            "anthropic": {
                "kind": "anthropic",
                "base_url": sim.url,
                "api_key": "sk-ant-sim-0123456789",
                "models": ["claude-haiku-4-5"],
            },
        },
        "canaries": [
            {
                "name": "arithmetic",
                "prompt": "What is 17 * 23? Reply with the number only.",
                "expect": {"equals": "391"},
                "max_tokens": 16,
            }
        ],
        "families": {
            "fast-small": [
                "anthropic/claude-haiku-4-5",
                "gemini/gemini-2.5-flash",
                "openai/gpt-4o-mini",
            ]
        },
    }
    return Config.model_validate(data)


async def test_run_serves_a_status_and_route_that_follow_the_simulated_brownout(
    simulator_factory: Any, store: Store, sqlite_url: str
) -> None:
    sim = simulator_factory(SCENARIO)
    config = config_for(sim, sqlite_url)
    port = free_port()
    stop = asyncio.Event()
    run = asyncio.create_task(serve_monitor(config, store, http=("127.0.0.1", port), stop=stop))
    base = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=base) as client:
            targets: dict[str, dict[str, Any]] = {}
            # Wait (pytest-timeout is the backstop) until every target has a settled status.
            expected = {
                "anthropic/claude-haiku-4-5": "down",
                "gemini/gemini-2.5-flash": "degraded",
                "openai/gpt-4o-mini": "operational",
            }
            while {t: targets.get(t, {}).get("status") for t in expected} != expected:
                await asyncio.sleep(0.5)
                assert not run.done(), run
                try:
                    body = (await client.get("/api/status")).json()
                except httpx.ConnectError:
                    continue
                targets = {t["target"]: t for t in body["targets"]}

            assert "errors" in targets["anthropic/claude-haiku-4-5"]["reasons"]
            assert "errors" in targets["gemini/gemini-2.5-flash"]["reasons"]
            assert targets["gemini/gemini-2.5-flash"]["source"] == "detector"
            route = (await client.get("/api/route", params={"family": "fast-small"})).json()
            ranked = [t["target"] for t in route["targets"]]
            assert ranked == ["openai/gpt-4o-mini", "gemini/gemini-2.5-flash"]
            assert route["targets"][0]["base_url"] == sim.openai_url
            assert [e["target"] for e in route["excluded"]] == ["anthropic/claude-haiku-4-5"]

            # docs/api.md's example: the openai SDK follows the switch's answer.
            best = next(t for t in route["targets"] if t["kind"] == "openai")
            sdk = AsyncOpenAI(base_url=best["base_url"], api_key="sk-app-own-key", max_retries=0)
            reply = await sdk.chat.completions.create(
                model=best["model"],
                messages=[
                    {"role": "user", "content": "What is 17 * 23? Reply with the number only."}
                ],
            )
            await sdk.close()
            assert reply.choices[0].message.content == "391"

            metrics = (await client.get("/metrics")).text
            samples = [s for f in text_string_to_metric_families(metrics) for s in f.samples]
            down = [
                s
                for s in samples
                if s.name == "brownout_target_status"
                and s.labels
                == {"provider": "anthropic", "model": "claude-haiku-4-5", "status": "down"}
            ]
            assert [s.value for s in down] == [1.0]
            health = await client.get("/healthz")
            assert health.status_code == 200
            assert health.json()["runner"]["scheduler_running"] is True
            for text in (metrics, str(route), str(body)):
                for key in ("sk-sim-key", "sk-ant-sim", "AIzaSim"):
                    assert key not in text
    finally:
        stop.set()
        await run
