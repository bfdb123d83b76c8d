"""A provider that sends NUL bytes (or absurd numbers) is still recorded, alike on both engines.

PostgreSQL refuses NUL in text; a reply or error containing one used to make the whole batch
fail there, so such a provider drifted to `unknown` instead of `down`, while `brownout once`
still exited 0.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from monitor.result import Outcome, ProbeResult
from monitor.store import Store, open_store, results
from monitor.store.results import NUL_REPLACEMENT
from tests.hostile import Request, Response, openai_stream, serve

T0 = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)


def _result(i: int, **fields: object) -> ProbeResult:
    base = ProbeResult(
        ts=T0 + timedelta(seconds=i),
        target="p/m",
        provider="p",
        model="m",
        canary="c",
        outcome=Outcome.OK,
        answer="391",
        latency_ms=12.0,
        input_tokens=5,
        output_tokens=2,
    )
    return dataclasses.replace(base, **fields)  # type: ignore[arg-type]


def test_one_hostile_row_never_fails_its_batch_and_both_engines_store_it_alike(
    any_store: Store,
) -> None:
    batch = [
        _result(0),
        _result(1, answer="39\x001", response_model="m\x00", system_fingerprint="fp\x00"),
        _result(2, outcome=Outcome.SERVER_ERROR, answer=None, error="HTTP 500: \x00\x00boom"),
        _result(3, input_tokens=10**12, output_tokens=-(10**15)),
        _result(4, latency_ms=math.nan, ttft_ms=math.inf, tokens_per_s=-math.inf),
    ]
    assert results.record(any_store, batch) == 5
    stored = list(results.between(any_store))
    assert [r.ts for r in stored] == [r.ts for r in batch]
    assert stored[1].answer == f"39{NUL_REPLACEMENT}1"
    assert stored[1].response_model == f"m{NUL_REPLACEMENT}"
    assert stored[1].system_fingerprint == f"fp{NUL_REPLACEMENT}"
    assert stored[2].error == f"HTTP 500: {NUL_REPLACEMENT * 2}boom"
    assert (stored[3].input_tokens, stored[3].output_tokens) == (None, None)
    assert (stored[4].latency_ms, stored[4].ttft_ms, stored[4].tokens_per_s) == (None,) * 3
    assert stored[0] == batch[0]


def _nul_provider(request: Request) -> Response:
    model = request.json()["model"]  # type: ignore[index]
    if model == "nul-answer":  # JSON's \\u0000 decodes to a NUL character in the answer
        return Response(body=openai_stream("391\x00"))
    return Response(500, {"content-type": "text/plain"}, b"upstream \x00\x00 exploded")


def _brownout_once(tmp_path: Path, url: str, db: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "probes.yaml").write_text(f"""\
providers:
  nul:
    kind: openai
    base_url: {url}/v1
    models: [nul-answer, nul-error]
canaries:
  - name: arithmetic
    prompt: "What is 17 * 23? Reply with the number only."
    expect: {{contains: "391"}}
""")
    env = {k: v for k, v in os.environ.items() if not k.startswith("BROWNOUT_")}
    env.update(BROWNOUT_DB=db, BROWNOUT_STATE_DIR=str(tmp_path / "state"))
    return subprocess.run(
        [sys.executable, "-m", "monitor", "once", "--json"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_brownout_once_records_replies_and_errors_with_nul_bytes_on_postgresql(
    tmp_path: Path, pg_url: str
) -> None:
    with serve(_nul_provider) as provider:
        once = _brownout_once(tmp_path, provider.url, pg_url)
    assert once.returncode == 0, once.stderr
    printed = [json.loads(line) for line in once.stdout.splitlines()]
    assert sorted(r["outcome"] for r in printed) == ["ok", "server_error"]
    store = open_store(pg_url)
    try:
        stored = {r.model: r for r in results.between(store)}
    finally:
        store.close()
    assert set(stored) == {"nul-answer", "nul-error"}
    assert stored["nul-answer"].outcome is Outcome.OK
    assert stored["nul-answer"].answer == f"391{NUL_REPLACEMENT}"
    assert stored["nul-error"].outcome is Outcome.SERVER_ERROR
    assert "\x00" not in (stored["nul-error"].error or "")


def test_brownout_once_fails_when_the_database_refuses_a_result(
    tmp_path: Path, pg_url: str
) -> None:
    store = open_store(pg_url)  # the schema, plus a rule this database enforces
    with store.engine.begin() as conn:
        conn.exec_driver_sql(
            "ALTER TABLE probe_results ADD CONSTRAINT no_errors CHECK (model <> 'nul-error')"
        )
    store.close()
    with serve(_nul_provider) as provider:
        once = _brownout_once(tmp_path, provider.url, pg_url)
    assert once.returncode == 1
    assert once.stderr.splitlines()[-1] == (
        "brownout: the database refused 1 result(s); they were not stored"
    )
