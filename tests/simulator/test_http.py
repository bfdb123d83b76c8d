"""The simulator over plain HTTP: its command, its non-SSE shapes, its refusals, its request log."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from monitor.cli import main
from monitor.result import Outcome
from monitor.simulator import SimulatorHandle
from monitor.simulator.anthropic_wire import AnthropicWire
from monitor.simulator.gemini_wire import GeminiWire
from monitor.simulator.openai_wire import OpenaiWire
from monitor.simulator.wire import Call, Wire
from tests.factories import KEY, KINDS, ask

ROOT = Path(__file__).parents[2]


@pytest.fixture
def served() -> Iterator[str]:
    """`python -m monitor simulate` in its own process on a free port; its URL."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "monitor",
            "simulate",
            "--port",
            str(port),
            "--scenario",
            str(ROOT / "scenarios" / "healthy.yaml"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        while process.poll() is None:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.05)
        assert process.poll() is None, process.stderr.read() if process.stderr else ""
        yield f"http://127.0.0.1:{port}"
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=30)
        assert process.returncode == 0, stderr
        assert b"Traceback" not in stderr
        assert b"openai    base_url: http://127.0.0.1:" in stderr
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


@pytest.mark.parametrize("kind", KINDS)
async def test_brownout_simulate_serves_every_protocol_until_interrupted(
    served: str, client: httpx.AsyncClient, kind: str
) -> None:
    base = f"{served}/v1" if kind == "openai" else served
    reply = await ask(client, base, kind, model="gpt-4o-mini", timeout=30)
    assert reply.outcome is Outcome.OK


def test_brownout_simulate_refuses_a_broken_scenario(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("defaults: {errors: {on_fire: 0.5}}\n")
    assert main(["simulate", "--scenario", str(broken)]) == 2
    assert "unknown error kind(s) on_fire" in capsys.readouterr().err


async def test_gemini_without_alt_sse_answers_one_json_array(simulator: SimulatorHandle) -> None:
    async with httpx.AsyncClient() as client:
        response = await client.post(
            f"{simulator.url}/v1beta/models/gemini-2.5-flash:streamGenerateContent",
            json={"contents": [{"role": "user", "parts": [{"text": "hi"}]}]},
        )
        whole = await client.post(
            f"{simulator.url}/v1beta/models/gemini-2.5-flash:generateContent",
            json={"contents": [{"role": "user", "parts": [{"text": "hi"}]}]},
        )
    chunks = response.json()
    assert isinstance(chunks, list) and chunks[0]["candidates"][0]["finishReason"] == "STOP"
    assert whole.json()["candidates"][0]["content"]["parts"][0]["text"] == "OK"


async def test_gemini_lists_the_scenario_models(
    simulator_factory: Callable[..., SimulatorHandle],
) -> None:
    sim = simulator_factory({"keys": [KEY], "models": {"gemini-2.5-flash": {}, "x-*": {}}})
    async with httpx.AsyncClient() as client:
        listed = await client.get(f"{sim.url}/v1beta/models", headers={"x-goog-api-key": KEY})
        refused = await client.get(f"{sim.url}/v1beta/models", params={"key": "wrong-key-123"})
    assert [m["name"] for m in listed.json()["models"]] == ["models/gemini-2.5-flash"]
    assert (refused.status_code, refused.json()["error"]["status"]) == (400, "INVALID_ARGUMENT")


@pytest.mark.parametrize(
    ("path", "headers", "body", "status", "said"),
    [
        ("/v1/chat/completions", {}, b"{not json", 400, "invalid_request_error"),
        (
            "/v1/messages",
            {},
            json.dumps({"model": "m", "max_tokens": 5, "messages": []}).encode(),
            400,
            "anthropic-version: header is required",
        ),
        (
            "/v1/messages",
            {"anthropic-version": "2023-06-01"},
            json.dumps({"model": "m", "messages": []}).encode(),
            400,
            "max_tokens: Field required",
        ),
        ("/v1beta/models/m:countTokens", {}, b"{}", 404, "NOT_FOUND"),
    ],
)
async def test_requests_the_real_service_refuses_are_refused_alike(
    simulator: SimulatorHandle,
    path: str,
    headers: dict[str, str],
    body: bytes,
    status: int,
    said: str,
) -> None:
    async with httpx.AsyncClient() as client:
        response = await client.post(simulator.url + path, content=body, headers=headers)
    assert response.status_code == status
    assert said in response.text


async def test_the_request_log_keeps_prompts_but_never_keys(
    simulator: SimulatorHandle, client: httpx.AsyncClient
) -> None:
    for kind in KINDS:
        await ask(client, simulator, kind, prompt=f"hello from {kind}", max_tokens=7)
    log = simulator.requests
    assert [(r["protocol"], r["prompt"], r["max_tokens"]) for r in log] == [
        (kind, f"hello from {kind}", 7) for kind in KINDS
    ]
    assert KEY not in repr(log)
    assert simulator.counts == {f"{kind}:ok": 1 for kind in KINDS}


@pytest.mark.parametrize("wire", [OpenaiWire(), AnthropicWire(), GeminiWire()], ids=KINDS)
@pytest.mark.parametrize("text", ["391", ' "quoted"\n', "é中🙂", "\\", ""])
def test_a_token_from_the_template_is_the_token_rendered_in_full(wire: Wire, text: str) -> None:
    call = Call("m", "m-2025", "fp_1", "prompt", True, include_usage=True)
    wire.token(call, "warm", False)  # the first token renders the call's template
    assert wire.token(call, text, False) == wire.render_token(call, text, False)
    assert wire.token(call, text, True) == wire.render_token(call, text, True)
