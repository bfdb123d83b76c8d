"""No configured secret is stored, logged, exported or shown, however it is sent and however
short it is, even when the provider echoes it in headers and body and brownout runs --verbose.

A loopback provider echoes every credential it receives in a response header (which httpcore
logs at DEBUG), in the answer, in the system fingerprint, and in the error of a 401. Then the
real commands run as subprocesses and their every output, and the database's bytes, are searched.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from monitor.secrets import Scrubber, secret_header, secret_values
from tests.hostile import Request, Response, openai_stream, serve

SHORT_KEY = "k3y9"  # shorter than the 8 characters fragments are matched by
AZURE_KEY = "azure0123456789abcdef"  # sent as Azure's `api-key` header
GATEWAY_TOKEN = "gw-token-41"  # sent as a gateway's `x-gateway-token` header
SECRETS = [SHORT_KEY, AZURE_KEY, GATEWAY_TOKEN]


def _echo(request: Request) -> Response:
    echoed = " ".join(
        request.headers.get(h, "") for h in ("authorization", "api-key", "x-gateway-token")
    ).strip()
    model = request.json()["model"]  # type: ignore[index]
    if model == "fails":
        return Response(
            401,
            {"content-type": "application/json", "x-echo": echoed},
            b'{"error": {"message": "Incorrect API key provided: %s", "type": "auth"}}'
            % echoed.encode(),
        )
    return Response(
        200,
        {"content-type": "text/event-stream", "x-echo": echoed},
        openai_stream(f"391 (you sent {echoed})", fingerprint=f"fp_{echoed}"),
    )


def _config(url: str) -> str:
    return f"""\
storage:
  url: sqlite:///brownout.db
providers:
  short:
    kind: openai
    base_url: {url}/v1
    api_key: {SHORT_KEY}
    models: [echo, fails]
  azure:
    kind: openai
    base_url: {url}/v1
    headers:
      api-key: {AZURE_KEY}
      x-gateway-token: {GATEWAY_TOKEN}
      x-client-name: brownout-tests
    models: [echo, fails]
canaries:
  - name: arithmetic
    prompt: "What is 17 * 23? Reply with the number only."
    expect: {{contains: "391"}}
"""


def _brownout(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BROWNOUT_")}
    return subprocess.run(
        [sys.executable, "-m", "monitor", "--verbose", *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_no_secret_reaches_logs_database_exports_or_status(tmp_path: Path) -> None:
    with serve(_echo) as provider:
        (tmp_path / "probes.yaml").write_text(_config(provider.url))
        once = _brownout(tmp_path, "once", "--json")
        assert once.returncode == 0, once.stderr
        sent = " ".join(" ".join(r.headers.values()) for r in provider.requests)
        assert all(secret in sent for secret in SECRETS)  # the provider did get (and echo) them
    outputs = {
        "once --json": once.stdout,
        "once --verbose log": once.stderr,
    }
    assert "receive_response_headers" in once.stderr  # httpcore's header lines were logged
    assert "[REDACTED]" in once.stdout  # the echoes were there, and were scrubbed
    for name, args in {
        "export jsonl": ("export", "--since", "1d", "--format", "jsonl"),
        "export csv": ("export", "--since", "1d", "--format", "csv"),
        "status": ("status",),
        "status --json": ("status", "--json"),
        "report md": ("report", "--since", "1d", "--format", "md"),
    }.items():
        run = _brownout(tmp_path, *args)
        assert run.returncode == 0, run.stderr
        outputs[name] = run.stdout + run.stderr
    database = b"".join(p.read_bytes() for p in tmp_path.glob("brownout.db*"))
    for secret in SECRETS:
        for name, text in outputs.items():
            assert secret not in text, f"{secret!r} shown by {name}"
        assert secret.encode() not in database, f"{secret!r} stored"


@pytest.mark.parametrize(
    ("name", "secret"),
    [
        ("Authorization", True),
        ("api-key", True),
        ("x-api-key", True),
        ("X-Gateway-Token", True),
        ("Cookie", True),
        ("x-client-name", False),
        ("anthropic-version", False),
        ("HTTP-Referer", False),
    ],
)
def test_headers_named_like_credentials_are_secret(name: str, secret: bool) -> None:
    assert secret_header(name) is secret


def test_a_bearer_value_is_secret_with_and_without_its_scheme() -> None:
    assert secret_values(["Bearer abc123", " ", "plain"]) == ["Bearer abc123", "abc123", "plain"]


def test_a_short_secret_is_scrubbed_whole_and_a_long_one_by_any_slice() -> None:
    scrubber = Scrubber(["k3y", "0123456789abcdef"])
    assert scrubber.scrub("key k3y, part 3456789a***") == "key [REDACTED], part [REDACTED]***"
