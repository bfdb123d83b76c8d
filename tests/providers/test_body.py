"""Bounded decoding of a reply's body (`monitor.providers.body`), and what a gzip bomb costs a
real `brownout once` process in memory, against the same command probing a healthy target."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zlib
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from monitor.providers import Prompt, provider_for
from monitor.providers.body import ACCEPT_ENCODING, ENCODINGS, Decoder, negotiate
from monitor.result import Outcome
from monitor.runner import make_client
from monitor.simulator import SimulatorHandle
from monitor.simulator.bomb import MIB, gzip_bomb
from monitor.target import Target
from tests.factories import api_config
from tests.hostile import Response, openai_stream, serve

BODY = b"data: " + b"x" * 200_000 + b"\n\n"


def _gzip(data: bytes) -> bytes:
    squeeze = zlib.compressobj(6, zlib.DEFLATED, 31)
    return squeeze.compress(data) + squeeze.flush()


def _raw_deflate(data: bytes) -> bytes:
    squeeze = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    return squeeze.compress(data) + squeeze.flush()


def _brotli(data: bytes) -> bytes:
    brotli = pytest.importorskip("brotli")
    return bytes(brotli.compress(data))


ENCODED: dict[str, Callable[[bytes], bytes]] = {
    "identity": lambda data: data,
    "gzip": _gzip,
    "x-gzip": _gzip,
    "deflate": zlib.compress,  # zlib-wrapped, as the standard says
    "deflate (raw, as some servers send it)": _raw_deflate,
    "br": _brotli,
}


def _decode(decoder: Decoder, chunks: list[bytes], limit: int) -> list[bytes]:
    out = []
    for chunk in chunks:
        decoder.feed(chunk)
        while piece := decoder.read(limit):
            out.append(piece)
    return out


@pytest.mark.parametrize("name", list(ENCODED))
def test_each_encoding_decodes_in_pieces_no_larger_than_asked(name: str) -> None:
    wire = ENCODED[name](BODY)
    header = name.split(" ")[0]
    chunks = [wire[i : i + 1000] for i in range(0, len(wire), 1000)]
    pieces = _decode(Decoder(header), chunks, 4096)
    assert b"".join(pieces) == BODY
    assert max(len(p) for p in pieces) <= 4096


def test_a_gzip_bomb_inflates_only_as_far_as_it_is_read() -> None:
    decoder = Decoder("gzip")
    decoder.feed(b"".join(gzip_bomb(64 * MIB)))  # the whole bomb at once: ~66 KB of wire
    read = sum(len(decoder.read(65536)) for _ in range(10))
    assert read == 10 * 65536


@pytest.mark.parametrize(
    ("header", "data", "words"),
    [
        ("zstd", b"\x28\xb5\x2f\xfd", "unsupported content-encoding: zstd"),
        ("gzip, br", b"", "more than one content-encoding"),
        ("gzip", b"not gzip at all", "the gzip body is broken"),
        ("deflate", b"\xff\xff\xff\xff not deflate", "the deflate body is broken"),
    ],
)
def test_an_encoding_that_cannot_be_undone_is_a_decoding_error(
    header: str, data: bytes, words: str
) -> None:
    with pytest.raises(httpx.DecodingError, match=words):
        _decode(Decoder(header), [data], 4096)


def test_requests_accept_only_what_can_be_decoded_within_the_bound() -> None:
    assert set(ACCEPT_ENCODING.split(", ")) == set(ENCODINGS) <= {"gzip", "deflate", "br"}


# --- Memory: a real process against the simulator's gzip bomb -------------------------------------

_CONFIG = """\
storage:
  url: sqlite:///{db}
providers:
  sim:
    kind: openai
    base_url: {url}
    api_key: sk-test-fake-key-for-the-simulator
    models: [{model}]
canaries:
  - name: arithmetic
    prompt: "What is 17 * 23? Reply with the number only."
    expect: {{equals: "391"}}
"""


def _once_peak_rss(tmp_path: Path, sim: SimulatorHandle, model: str) -> tuple[float, str]:
    """(peak RSS in MB of `brownout once --json` probing `model`, its outcome)."""
    config = tmp_path / f"{model}.yaml"
    config.write_text(_CONFIG.format(db=tmp_path / f"{model}.db", url=sim.openai_url, model=model))
    env = {k: v for k, v in os.environ.items() if not k.startswith("BROWNOUT_")}
    process = subprocess.Popen(
        [sys.executable, "-m", "monitor", "once", "--config", str(config), "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    assert process.stdout is not None
    with process.stdout:
        out = process.stdout.read()
    _pid, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    outcome = json.loads(out.splitlines()[0])["outcome"]
    return usage.ru_maxrss / 1024, outcome


def test_a_gzip_bomb_costs_a_probe_a_few_megabytes_not_the_bomb(
    tmp_path: Path, simulator_factory: Callable[..., SimulatorHandle]
) -> None:
    sim = simulator_factory(
        {
            "defaults": {"ttft": "1ms", "tokens_per_s": 0},
            "models": {"bomb": {"error": "gzip_bomb"}, "*": {}},
        }
    )
    baseline, healthy = _once_peak_rss(tmp_path, sim, "healthy")
    peak, outcome = _once_peak_rss(tmp_path, sim, "bomb")
    assert (healthy, outcome) == ("ok", "bad_response")
    # Reading stops at 4 MB of decoded body; httpx's own decoding inflated each 64 KB read of
    # the bomb whole (64 MB) before the bound could be checked.
    print(f"peak RSS: gzip bomb {peak:.0f} MB, healthy {baseline:.0f} MB")
    assert peak - baseline < 32, f"bomb {peak:.0f} MB against {baseline:.0f} MB healthy"


@pytest.mark.parametrize(
    ("asked", "sent"),
    [
        (None, ACCEPT_ENCODING),
        ("identity", "identity"),
        ("gzip;q=1.0, zstd", "gzip;q=1.0"),
        ("zstd", "identity"),
        ("*", ACCEPT_ENCODING),
        ("GZIP, identity;q=0.5", "GZIP, identity;q=0.5"),
    ],
)
def test_a_users_accept_encoding_is_narrowed_never_widened(asked: str | None, sent: str) -> None:
    assert negotiate(asked) == sent


async def test_a_users_accept_encoding_header_reaches_the_provider() -> None:
    """`headers: {accept-encoding: identity}` was replaced by brownout's own list (#13)."""
    config = api_config()
    with serve(lambda _r: Response(body=openai_stream("hi"))) as server:
        async with make_client(config) as client:
            for headers in ({}, {"Accept-Encoding": "identity"}):
                target = Target(
                    name="p/m",
                    provider="p",
                    model="m",
                    kind="openai",
                    base_url=server.url,
                    interval=30,
                    timeout=10,
                    headers=headers,
                )
                reply = await provider_for("openai").complete(
                    client, target, Prompt("hi", max_tokens=4), timeout=10
                )
                assert reply.outcome is Outcome.OK
    assert [r.headers["accept-encoding"] for r in server.requests] == [ACCEPT_ENCODING, "identity"]
