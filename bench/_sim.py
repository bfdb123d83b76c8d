"""Shared by the benchmarks: the simulator in its own process, targets pointing at it.

The simulator runs as `python -m monitor simulate` in a subprocess on a free loopback port, so
its event loop never competes with the measuring client for the GIL (a server thread in the
benchmark's own process would add its work to every figure).
"""

from __future__ import annotations

import gc
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

from monitor.config import Config
from monitor.target import Target

KINDS = ("openai", "anthropic", "gemini")
API_KEY = "bench-key-not-a-secret-0000"
READY_TIMEOUT_S = 30.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def simulator(scenario: dict[str, Any]) -> Iterator[str]:
    """Run the simulator with `scenario` in a subprocess; yield its `http://127.0.0.1:PORT`."""
    with tempfile.TemporaryDirectory(prefix="brownout-bench-") as tmp:
        scenario_file = Path(tmp) / "scenario.yaml"
        scenario_file.write_text(yaml.safe_dump(scenario), encoding="utf-8")
        log_file = Path(tmp) / "simulator.log"
        port = free_port()
        root = Path(__file__).resolve().parent.parent
        env = {**os.environ, "PYTHONPATH": str(root)}
        with log_file.open("wb") as log:
            process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "monitor",
                    "simulate",
                    "--scenario",
                    str(scenario_file),
                    "--port",
                    str(port),
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
            )
        try:
            _wait_until_listening(port, process, log_file)
            yield f"http://127.0.0.1:{port}"
        finally:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_until_listening(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the simulator exited: {log.read_text(errors='replace')[-2000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"the simulator did not listen on port {port} in {READY_TIMEOUT_S:g}s")


def config_for(url: str, models: Sequence[str], kinds: Sequence[str], **schedule: Any) -> Config:
    """One provider per kind, model i served by kind i mod len(kinds), all at the simulator."""
    providers: dict[str, Any] = {}
    for i, model in enumerate(models):
        kind = kinds[i % len(kinds)]
        provider = providers.setdefault(
            kind,
            {
                "kind": kind,
                "base_url": f"{url}/v1" if kind == "openai" else url,
                "api_key": API_KEY,
                "models": [],
            },
        )
        provider["models"].append(model)
    return Config.model_validate({"providers": providers, "schedule": schedule})


def by_model(config: Config) -> dict[str, Target]:
    return {t.model: t for t in config.targets()}


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100), nearest-rank on the sorted values."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def summary(errors: Sequence[float]) -> str:
    """`median X ms, p99 Y ms, max Z ms (n)` of absolute errors, and the signed median."""
    absolute = [abs(e) for e in errors]
    if not absolute:
        return "no samples"
    return (
        f"median {statistics.median(absolute):6.2f} ms   p99 {percentile(absolute, 99):6.2f} ms"
        f"   max {max(absolute):6.2f} ms   signed median {statistics.median(errors):+6.2f} ms"
        f"   (n={len(absolute)})"
    )


def machine() -> str:
    """CPU count and load average: these figures depend on what else the machine is doing."""
    one, five, _ = os.getloadavg()
    return f"{os.cpu_count()} CPUs, load average {one:.2f} (1 min) {five:.2f} (5 min)"


def bare_request(target: Target, prompt: str, max_tokens: int) -> tuple[str, dict[str, str], bytes]:
    """(url, headers, body) of the streaming request a minimal client of `target`'s kind sends."""
    kind, base, model = target.kind, target.base_url, target.model
    messages = [{"role": "user", "content": prompt}]
    if kind == "openai":
        url = f"{base}/chat/completions"
        headers = {"authorization": f"Bearer {API_KEY}"}
        body: dict[str, Any] = {
            "model": model,
            "messages": messages,
            "max_tokens": max_tokens,
            "stream": True,
            "stream_options": {"include_usage": True},
        }
    elif kind == "anthropic":
        url = f"{base}/v1/messages"
        headers = {"x-api-key": API_KEY, "anthropic-version": "2023-06-01"}
        body = {"model": model, "messages": messages, "max_tokens": max_tokens, "stream": True}
    else:
        url = f"{base}/v1beta/models/{model}:streamGenerateContent?alt=sse"
        headers = {"x-goog-api-key": API_KEY}
        body = {
            "contents": [{"role": "user", "parts": [{"text": prompt}]}],
            "generationConfig": {"maxOutputTokens": max_tokens},
        }
    headers["content-type"] = "application/json"
    return url, headers, json.dumps(body).encode()


def chunk_text(kind: str, data: str) -> str:
    """The answer text in one SSE `data:` payload of `kind` ("" for none)."""
    if not data.startswith("{"):
        return ""
    chunk = json.loads(data)
    if kind == "openai":
        choices = chunk.get("choices") or [{}]
        return str((choices[0].get("delta") or {}).get("content") or "")
    if kind == "anthropic":
        return str((chunk.get("delta") or {}).get("text") or "")
    parts = ((chunk.get("candidates") or [{}])[0].get("content") or {}).get("parts") or []
    return "".join(str(p.get("text") or "") for p in parts)


class GcPauses:
    """Records how long each full (generation 2) garbage collection stalls this process: a
    stall delays every first token that arrives during it, so it shows in TTFT error."""

    def __init__(self) -> None:
        self.pauses_ms: list[float] = []
        self._started = 0.0
        gc.callbacks.append(self._callback)

    def _callback(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        elif info.get("generation") == 2:
            self.pauses_ms.append((time.perf_counter() - self._started) * 1000)

    def take(self) -> str:
        """The pauses since the last call, described; then forgets them."""
        pauses, self.pauses_ms = self.pauses_ms, []
        if not pauses:
            return "no full garbage collection"
        return f"{len(pauses)} full garbage collection(s), longest {max(pauses):.0f} ms"


def set_gc(mode: str) -> None:
    """`on` (Python's default), `freeze` (collect, then exempt everything alive now, as a
    long-running process can do after start-up) or `off`."""
    if mode == "freeze":
        gc.collect()
        gc.freeze()
    elif mode == "off":
        gc.disable()
