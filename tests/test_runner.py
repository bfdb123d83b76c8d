"""The scheduler and the `run` / `once` commands, against the simulator on loopback."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from monitor.cli import main
from monitor.result import Outcome
from monitor.simulator import SimulatorHandle
from monitor.store import open_store, results

SCENARIO = {
    "name": "one-hangs",
    "defaults": {"ttft": "10ms", "tokens_per_s": 1000},
    "models": {"hung-model": {"error": "hang"}, "*": {}},
}


def _config(
    tmp_path: Path,
    sim: SimulatorHandle,
    *,
    interval: str = "1s",
    timeout: str = "30s",
    hung: bool = False,
) -> Path:
    models = "[gpt-4o-mini, hung-model]" if hung else "[gpt-4o-mini]"
    text = f"""\
storage:
  url: sqlite:///{tmp_path}/brownout.db
schedule:
  interval: {interval}
  timeout: {timeout}
  jitter: 0.2
providers:
  openai:
    kind: openai
    base_url: {sim.openai_url}
    api_key: sk-test-key-for-the-simulator
    models: {models}
  anthropic:
    kind: anthropic
    base_url: {sim.url}
    api_key: sk-ant-test-key-for-the-simulator
    models: [claude-haiku-4-5]
  gemini:
    kind: gemini
    base_url: {sim.url}
    api_key: test-key-for-the-gemini-simulator
    models: [gemini-2.5-flash]
canaries:
  - name: arithmetic
    prompt: "What is 17 * 23? Reply with the number only."
    expect: {{equals: "391"}}
  - name: fresh
    generator: arithmetic
"""
    path = tmp_path / "probes.yaml"
    path.write_text(text)
    return path


def _brownout(*args: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BROWNOUT_")}
    return subprocess.Popen(
        [sys.executable, "-m", "monitor", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def _wait_for(predicate: Callable[[], bool], limit: float = 60.0) -> None:
    """Poll until `predicate` holds; a bounded loop, so a broken monitor fails instead of hanging."""
    deadline = time.monotonic() + limit
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached")
        time.sleep(0.2)


def _stored(tmp_path: Path) -> list[Any]:
    store = open_store(f"sqlite:///{tmp_path}/brownout.db")
    try:
        return list(results.between(store))
    finally:
        store.close()


def test_brownout_run_probes_every_target_on_schedule_and_stores_results(
    tmp_path: Path, simulator_factory: Callable[..., SimulatorHandle]
) -> None:
    sim = simulator_factory(SCENARIO)
    proc = _brownout("run", "--config", str(_config(tmp_path, sim)), "--duration", "3.5s")
    _out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    stored = _stored(tmp_path)
    by_target: dict[str, list[Any]] = {}
    for r in stored:
        by_target.setdefault(r.target, []).append(r)
    assert set(by_target) == {
        "openai/gpt-4o-mini",
        "anthropic/claude-haiku-4-5",
        "gemini/gemini-2.5-flash",
    }
    for target, rows in by_target.items():
        # one probe a second for ~3.5 s, two canaries each: several rounds, all answered right
        assert len(rows) >= 4, target
        failed = [
            (r.canary, r.outcome, r.answer, r.error) for r in rows if not (r.ok and r.quality_ok)
        ]
        assert failed == [], target
    assert "sk-test-key-for-the-simulator" not in err


def test_a_hung_provider_delays_no_other_target_and_is_recorded_as_cancelled_at_sigterm(
    tmp_path: Path, simulator_factory: Callable[..., SimulatorHandle]
) -> None:
    sim = simulator_factory(SCENARIO)
    config = _config(tmp_path, sim, interval="500ms", timeout="60s", hung=True)
    proc = _brownout("run", "--config", str(config), "--grace", "500ms")
    try:
        # The healthy targets keep their schedule while hung-model's first probe never ends.
        _wait_for(lambda: sum(r.target == "openai/gpt-4o-mini" for r in _stored(tmp_path)) >= 6)
    finally:
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    hung = [r for r in _stored(tmp_path) if r.target == "openai/hung-model"]
    assert [r.outcome for r in hung] == [Outcome.CANCELLED]
    assert hung[0].ttft_ms is None and hung[0].error


def test_once_json_prints_one_record_per_probe_and_stores_them(
    tmp_path: Path, simulator: SimulatorHandle, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _config(tmp_path, simulator)
    assert (
        main(
            [
                "once",
                "--config",
                str(config),
                "--json",
                "--target",
                "openai/*",
                "--target",
                "gemini",
            ]
        )
        == 0
    )
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert sorted((d["target"], d["canary"]) for d in lines) == [
        ("gemini/gemini-2.5-flash", "arithmetic"),
        ("gemini/gemini-2.5-flash", "fresh"),
        ("openai/gpt-4o-mini", "arithmetic"),
        ("openai/gpt-4o-mini", "fresh"),
    ]
    first = next(d for d in lines if d["canary"] == "arithmetic")
    assert list(first)[:19] == [
        "ts",
        "target",
        "provider",
        "model",
        "canary",
        "outcome",
        "region",
        "http_status",
        "connect_ms",
        "ttft_ms",
        "latency_ms",
        "input_tokens",
        "output_tokens",
        "tokens_per_s",
        "quality_ok",
        "answer",
        "response_model",
        "cost_usd",
        "error",
    ]
    assert first["outcome"] == "ok" and first["answer"] == "391" and first["http_status"] == 200
    assert 0 < first["ttft_ms"] <= first["latency_ms"]
    assert len(_stored(tmp_path)) == 4


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--target", "nobody/*"], "no target matches 'nobody/*'"),
        (["--canary", "astrology"], "no canary named 'astrology'"),
    ],
)
def test_once_names_a_selection_that_matches_nothing(
    tmp_path: Path,
    simulator: SimulatorHandle,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    message: str,
) -> None:
    assert main(["once", "--config", str(_config(tmp_path, simulator)), *args]) == 2
    assert message in capsys.readouterr().err


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_brownout_run_serves_the_http_api_while_it_probes(
    tmp_path: Path, simulator_factory: Callable[..., SimulatorHandle]
) -> None:
    import httpx

    sim = simulator_factory(SCENARIO)
    port = _free_port()
    proc = _brownout("run", "--config", str(_config(tmp_path, sim)), "--http", f"127.0.0.1:{port}")
    base = f"http://127.0.0.1:{port}"

    def probed() -> bool:
        try:
            health = httpx.get(f"{base}/healthz", timeout=2).json()
        except httpx.HTTPError:
            return False
        return bool(health.get("runner", {}).get("results_stored"))

    try:
        _wait_for(probed)
        status = httpx.get(f"{base}/api/status", timeout=5)
        assert status.status_code == 200
        assert "openai/gpt-4o-mini" in status.text
        assert "sk-test-key-for-the-simulator" not in status.text
    finally:
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err


def test_serving_the_api_beyond_loopback_without_a_token_is_refused(
    tmp_path: Path, simulator: SimulatorHandle
) -> None:
    proc = _brownout(
        "run", "--config", str(_config(tmp_path, simulator)), "--http", f"0.0.0.0:{_free_port()}"
    )
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 2
    assert "needs a token" in err and "Traceback" not in err


async def test_probes_still_queued_for_a_slot_at_shutdown_are_stored_as_cancelled(
    tmp_path: Path, simulator_factory: Callable[..., SimulatorHandle]
) -> None:
    import asyncio

    from monitor.config import load_config
    from monitor.runner import Monitor, make_client

    sim = simulator_factory(SCENARIO)
    path = _config(tmp_path, sim, hung=True)
    path.write_text(
        path.read_text().replace("  jitter: 0.2\n", "  jitter: 0.2\n  max_concurrency: 1\n")
    )
    config = load_config(str(path))
    store = open_store(config.storage.url)
    targets = {t.name: t for t in config.targets()}
    try:
        async with make_client(config) as client:
            monitor = Monitor(config, store, client)
            hung = asyncio.create_task(monitor.probe_target(targets["openai/hung-model"]))
            for _ in range(1000):  # until the hung probe holds the only slot (bounded)
                if sim.in_flight:
                    break
                await asyncio.sleep(0.01)
            queued = asyncio.create_task(monitor.probe_target(targets["gemini/gemini-2.5-flash"]))
            await asyncio.sleep(0.1)
            for task in (hung, queued):
                task.cancel()
            await asyncio.gather(hung, queued, return_exceptions=True)
            await monitor.close()
        stored = {r.target: r.outcome for r in results.between(store)}
    finally:
        store.close()
    assert stored == {
        "openai/hung-model": Outcome.CANCELLED,
        "gemini/gemini-2.5-flash": Outcome.CANCELLED,
    }


CADENCE_SCENARIO = {"name": "quick", "defaults": {"ttft": "1ms", "tokens_per_s": 5000}}


async def test_the_scheduler_runs_each_canary_at_its_own_every_and_a_burst_all_at_once(
    tmp_path: Path, simulator_factory: Callable[..., SimulatorHandle]
) -> None:
    import asyncio
    import random

    from monitor.config import load_config
    from monitor.runner import Monitor, Scheduler, make_client

    sim = simulator_factory(CADENCE_SCENARIO)
    path = tmp_path / "probes.yaml"
    path.write_text(f"""\
storage:
  url: sqlite:///{tmp_path}/brownout.db
schedule: {{interval: 1s, jitter: 0}}
providers:
  openai:
    kind: openai
    base_url: {sim.openai_url}
    api_key: sk-test-key-for-the-simulator
    models: [gpt-4o-mini]
canaries:
  - {{name: fast, prompt: "What is 2 + 2?", expect: {{number: 4}}, every: 200ms}}
  - {{name: plain, prompt: "What is 3 + 3?", expect: {{number: 6}}}}
  - {{name: load, prompt: "What is 4 + 4?", expect: {{number: 8}}, every: 1s, burst: 3}}
""")
    config = load_config(str(path))
    store = open_store(config.storage.url)
    try:
        async with make_client(config) as client:
            monitor = Monitor(config, store, client, rng=random.Random(7))
            scheduler = Scheduler(monitor, grace=5)
            scheduler.start()
            for _ in range(600):  # until the slow canary has run three times (bounded)
                await asyncio.sleep(0.05)
                await monitor.flush()
                if sum(r.canary == "plain" for r in results.between(store)) >= 3:
                    break
            await scheduler.stop()
            await monitor.close()
        stored = list(results.between(store))
    finally:
        store.close()
    count = {name: sum(r.canary == name for r in stored) for name in ("fast", "plain", "load")}
    assert count["plain"] >= 3
    # Every 200 ms against every second: about five times as many, never merely as many.
    assert count["fast"] >= 3 * count["plain"]
    assert all(r.outcome is Outcome.OK for r in stored)
    # A burst is three probes sent together, once a second at a random moment of the second.
    load = sorted(r.ts for r in stored if r.canary == "load")
    assert load and len(load) % 3 == 0
    groups = [load[i : i + 3] for i in range(0, len(load), 3)]
    assert all((g[-1] - g[0]).total_seconds() < 0.5 for g in groups)


def test_a_burst_comes_once_a_period_at_a_seeded_random_time_of_it() -> None:
    import random
    from datetime import UTC, datetime, timedelta

    from monitor.runner import burst_time, period_end

    day = 86400.0
    after = datetime(2026, 12, 2, 5, 0, tzinfo=UTC)
    times = []
    when = burst_time(after, day, random.Random(3))
    rng = random.Random(3)
    for _ in range(20):
        times.append(burst_time(after, day, rng))
        after = period_end(times[-1], day)
    assert times[0] == when  # the same seed, the same time
    assert times[0] > datetime(2026, 12, 2, 5, 0, tzinfo=UTC)
    days = [t.date() for t in times]
    # One a UTC day, every day: twenty days in a row.
    assert days == [times[0].date() + timedelta(days=i) for i in range(20)]
    assert len({t.hour for t in times}) > 5  # a fresh time of day each day
