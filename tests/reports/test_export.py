"""Exports round-trip to the database rows, stream in row groups, and never carry a key."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from typing import Any

import httpx
import pyarrow.parquet as pq
import pytest

from monitor.config import Config, load_config
from monitor.probe import run_probe
from monitor.reports import EXPORT_FORMATS, MEDIA_TYPES, TABLE_NAMES, export_bytes
from monitor.reports import export as export_module
from monitor.reports.build import build_report
from monitor.reports.export import export_rows
from monitor.reports.render import FORMATS as REPORT_FORMATS
from monitor.reports.render import render
from monitor.reports.tables import RESULT_SCHEMA, TABLES
from monitor.result import Outcome, ProbeResult, format_ts
from monitor.secrets import Scrubber
from monitor.store import Store, results
from tests.factories import DAY, T0, probe, seed

SINCE, UNTIL = T0, T0 + DAY


def varied(n: int) -> list[ProbeResult]:
    """Every outcome, nulls and odd text (commas, quotes, newlines, non-ASCII) among `n` probes."""
    outcomes = list(Outcome)
    out = []
    for i in range(n):
        outcome = outcomes[i % len(outcomes)]
        out.append(
            probe(
                T0 + timedelta(seconds=17 * i, milliseconds=i % 1000),
                "openai/gpt-4o-mini" if i % 3 else "openrouter/meta-llama/llama-3.3-70b-instruct",
                outcome=outcome,
                answer='3,91 "quoted"\nline two — ünï' if i % 5 == 0 else "391",
                error=None if outcome.answered else f"failure {i}: {outcome.value}",
                system_fingerprint="fp_1" if i % 2 else None,
                tokens_estimated=bool(i % 4 == 0),
                top_logprobs=[["391", -0.01], [' "3', -5.5]] if i % 7 == 0 else None,
            )
        )
    return out


@pytest.fixture
def seeded(store: Store) -> Store:
    seed(store, varied(600))
    return store


def db_rows(store: Store) -> list[ProbeResult]:
    return list(results.between(store, SINCE, UNTIL))


def export(store: Store, fmt: str, table: str = "results", **kw: Any) -> bytes:
    out = io.BytesIO()
    export_rows(store, table, SINCE, UNTIL, fmt, out, **kw)
    return out.getvalue()


def test_jsonl_rows_are_the_result_record_and_load_back_as_results(seeded: Store) -> None:
    lines = export(seeded, "jsonl").decode().splitlines()
    originals = db_rows(seeded)
    assert [json.loads(line) for line in lines] == [r.to_dict() for r in originals]
    assert [ProbeResult.from_dict(json.loads(line)) for line in lines] == originals


def _typed(name: str, text: str) -> Any:
    """A CSV cell back to the record's value, by the column's Parquet type."""
    if text == "":
        return None
    if name == "top_logprobs":  # pairs are written as JSON
        return json.loads(text)
    kind = str(RESULT_SCHEMA.field(name).type)
    if kind == "bool":
        return text == "true"
    if kind.startswith("int"):
        return int(text)
    if kind == "double":
        return float(text)
    return text


def test_csv_reads_back_equal_to_the_database_rows(seeded: Store) -> None:
    reader = csv.DictReader(io.StringIO(export(seeded, "csv").decode()))
    back = [{k: _typed(k, v) for k, v in row.items()} for row in reader]
    want = [r.to_dict() for r in db_rows(seeded)]
    assert reader.fieldnames == list(want[0])
    assert back == want


def test_parquet_reads_back_equal_to_the_database_rows(seeded: Store) -> None:
    table = pq.read_table(io.BytesIO(export(seeded, "parquet")))
    got = [
        {**row, "top_logprobs": row["top_logprobs"] and json.loads(row["top_logprobs"])}
        for row in table.to_pylist()
    ]
    want = []
    for r in db_rows(seeded):
        row = r.to_dict()
        row["ts"] = r.ts  # Parquet keeps the full-precision timestamp
        want.append(row)
    assert got == want


def test_parquet_is_written_in_row_groups(seeded: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(export_module, "ROW_GROUP", 100)
    metadata = pq.read_metadata(io.BytesIO(export(seeded, "parquet")))
    assert metadata.num_rows == 600 and metadata.num_row_groups == 6


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_an_empty_range_is_a_valid_empty_file(store: Store, fmt: str) -> None:
    data = export(store, fmt)
    if fmt == "parquet":
        assert pq.read_table(io.BytesIO(data)).num_rows == 0
    else:
        assert len(data.decode().splitlines()) == (1 if fmt == "csv" else 0)


def test_progress_is_reported_as_rows_are_written(seeded: Store) -> None:
    seen: list[tuple[int, str]] = []
    export(seeded, "jsonl", progress=lambda n, ts: seen.append((n, format_ts(ts) if ts else "")))
    assert [n for n, _ in seen] == [1000 * k for k in range(1, 600 // 1000 + 1)] + [600]
    assert seen[-1][1] == format_ts(db_rows(seeded)[-1].ts)


def test_an_export_honours_targets(seeded: Store) -> None:
    lines = export(seeded, "jsonl", targets=["openai/gpt-4o-mini"]).decode().splitlines()
    assert len(lines) == 400
    assert {json.loads(line)["target"] for line in lines} == {"openai/gpt-4o-mini"}


# --- secrets ---------------------------------------------------------------------------------

KEY = "sk-Qx7vT2mLp9Rz4KwN8bYc1Hd6Jf3Gs5"  # random-looking: no word a report prints (a fake key)


def _fragments(secret: str) -> list[str]:
    return [secret[i : i + 8] for i in range(len(secret) - 7)]


@pytest.fixture
async def leaky(store: Store, simulator: Any, tmp_path: Any) -> tuple[Store, Config]:
    """A database holding a provider's echo of our key (through the normal probe path) and, as
    if an old version had stored it unscrubbed, the whole key in an error text."""
    path = tmp_path / "probes.yaml"
    path.write_text(
        "providers:\n"
        "  openai:\n"
        "    kind: openai\n"
        f"    base_url: {simulator.base_url('openai')}\n"
        f"    api_key: {KEY}\n"
        "    models: [gpt-4o-mini]\n"
        "canaries:\n"
        "  - name: arithmetic\n"
        '    prompt: "What is 17 * 23? Reply with the number only."\n'
        '    expect: {equals: "391"}\n'
    )
    config = load_config(str(path), env={})
    simulator.set_scenario({"keys": ["a-different-key"]})
    target, canary = config.targets()[0], config.canaries[0]

    async with httpx.AsyncClient() as client:
        echoed = await run_probe(
            client,
            target,
            canary,
            timeout=5.0,
            scrubber=Scrubber(config.secrets()),
            now=lambda: T0 + DAY / 2,
        )
    assert echoed.outcome is Outcome.AUTH_ERROR and "Incorrect API key" in (echoed.error or "")
    results.record(
        store,
        [
            echoed,
            probe(
                T0 + DAY / 3,
                error=f"upstream said: bad key {KEY}",
                outcome=Outcome.AUTH_ERROR,
                answer=f"key={KEY}",
            ),
        ],
    )
    return store, config


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_no_configured_key_or_part_of_one_leaves_in_an_export(
    leaky: tuple[Store, Config], fmt: str
) -> None:
    store, config = leaky
    data = export(store, fmt, scrubber=Scrubber(config.secrets()))
    text = (
        json.dumps(pq.read_table(io.BytesIO(data)).to_pylist(), default=str)
        if fmt == "parquet"
        else data.decode()
    )
    assert "upstream said: bad key [REDACTED]" in text
    assert not [f for f in _fragments(KEY) if f in text]


@pytest.mark.parametrize("fmt", REPORT_FORMATS)
def test_no_configured_key_appears_in_a_report(leaky: tuple[Store, Config], fmt: str) -> None:
    store, config = leaky
    report = build_report(store, config, SINCE, UNTIL)
    assert report.fleet.probes == 2
    text = render(report, fmt)
    assert not [f for f in _fragments(KEY) if f in text]


def test_the_dashboard_gets_the_same_bytes_as_an_export(seeded: Store) -> None:
    for fmt in EXPORT_FORMATS:
        assert export_bytes(seeded, "results", SINCE, UNTIL, fmt) == export(seeded, fmt)


def test_the_command_line_offers_exactly_the_tables_and_formats_there_are() -> None:
    assert tuple(TABLES) == TABLE_NAMES
    assert set(MEDIA_TYPES) == set(EXPORT_FORMATS) | set(REPORT_FORMATS)


@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
def test_exports_round_trip_on_sqlite_and_postgresql(any_store: Store, fmt: str) -> None:
    seed(any_store, varied(120))
    data = export(any_store, fmt)
    if fmt == "jsonl":
        back = [ProbeResult.from_dict(json.loads(line)) for line in data.decode().splitlines()]
    else:
        back = [ProbeResult.from_dict(row) for row in pq.read_table(io.BytesIO(data)).to_pylist()]
    assert back == db_rows(any_store) and len(back) == 120
