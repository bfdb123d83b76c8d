"""Reports and exports over statuses and incidents stored by detection, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

import pyarrow.parquet as pq
import pytest

from monitor.config import Config
from monitor.detect.types import IncidentRecord, Status, TargetStatus
from monitor.reports.build import build_report
from monitor.reports.export import export_rows
from monitor.result import format_ts
from monitor.store import Store, detection
from tests.factories import DAY, T0, flip, probe, seed

MINUTE = timedelta(minutes=1)
OPENAI, GEMINI = "openai/gpt-4o-mini", "gemini/gemini-2.5-flash"
SINCE, UNTIL = T0, T0 + 30 * DAY
DOWN = SINCE + 12 * DAY


@pytest.fixture
def detected(any_store: Store) -> Store:
    """30 days of hourly probes; openai down 43 minutes, gemini degraded twice (20 and 100
    minutes) and down since two hours before the end; as detection stores them."""
    seed(
        any_store,
        [
            probe(SINCE + h * timedelta(hours=1), t)
            for t in (OPENAI, GEMINI)
            for h in range(30 * 24)
        ],
    )
    transitions = [
        flip(SINCE - DAY, "unknown", "operational"),
        flip(DOWN, "operational", "down", reasons=("errors",)),
        flip(DOWN + 43 * MINUTE, "down", "operational"),
        flip(SINCE - DAY, "unknown", "operational", GEMINI),
        flip(SINCE + DAY, "operational", "degraded", GEMINI, ("latency",)),
        flip(SINCE + DAY + 20 * MINUTE, "degraded", "operational", GEMINI),
        flip(SINCE + 2 * DAY, "operational", "degraded", GEMINI, ("ttft",)),
        flip(SINCE + 2 * DAY + 100 * MINUTE, "degraded", "operational", GEMINI),
        flip(UNTIL - 120 * MINUTE, "operational", "down", GEMINI, ("errors",)),
    ]
    incidents = [
        IncidentRecord(
            OPENAI, DOWN, Status.DOWN, DOWN + 43 * MINUTE, ["errors"], {"errors": {"rate": 1.0}}
        ),
        IncidentRecord(
            GEMINI, SINCE + DAY, Status.DEGRADED, SINCE + DAY + 20 * MINUTE, ["latency"]
        ),
        IncidentRecord(
            GEMINI, SINCE + 2 * DAY, Status.DEGRADED, SINCE + 2 * DAY + 100 * MINUTE, ["ttft"]
        ),
        IncidentRecord(GEMINI, UNTIL - 120 * MINUTE, Status.DOWN, None, ["errors"]),
    ]
    statuses = [
        TargetStatus(OPENAI, Status.OPERATIONAL, DOWN + 43 * MINUTE),
        TargetStatus(GEMINI, Status.DOWN, UNTIL - 120 * MINUTE, ["errors"]),
    ]
    detection.save_detection(any_store, transitions, incidents, statuses, now=UNTIL)
    return any_store


def test_the_report_reads_availability_and_incidents_from_the_detection_store(
    detected: Store,
) -> None:
    report = build_report(detected, Config(), SINCE, UNTIL, now=UNTIL)
    openai, gemini = (next(f for f in report.targets if f.name == n) for n in (OPENAI, GEMINI))
    assert round(openai.time_availability * 100, 3) == 99.900  # type: ignore[operator]
    assert openai.down_s == 43 * 60 and openai.mttr_s == 43 * 60
    assert gemini.incidents == 3 and gemini.down_s == 120 * 60 and gemini.degraded_s == 120 * 60
    assert gemini.mttr_s == 60 * 60  # (20 + 100) / 2; the open one has no repair time yet
    assert gemini.longest_incident_s == 120 * 60
    assert [(i.target, i.start, i.end) for i in report.incidents][-1] == (
        GEMINI,
        UNTIL - 120 * MINUTE,
        None,
    )


def test_a_range_inside_a_stable_stretch_takes_the_status_from_the_next_transition(
    detected: Store,
) -> None:
    # No transition inside [DOWN+10m, DOWN+20m): openai was down throughout.
    report = build_report(detected, Config(), DOWN + 10 * MINUTE, DOWN + 20 * MINUTE, [OPENAI])
    assert report.targets[0].time_availability == 0.0 and report.targets[0].down_s == 600


def _export(store: Store, table: str, fmt: str) -> bytes:
    out = io.BytesIO()
    export_rows(store, table, SINCE, UNTIL, fmt, out)
    return out.getvalue()


def test_incidents_export_round_trips(detected: Store) -> None:
    stored = detection.incidents_between(detected, SINCE, UNTIL)
    lines = _export(detected, "incidents", "jsonl").decode().splitlines()
    assert [json.loads(line) for line in lines] == [
        i.to_dict() | {"duration_s": (i.end - i.start).total_seconds() if i.end else None}
        for i in stored
    ]
    table = pq.read_table(io.BytesIO(_export(detected, "incidents", "parquet"))).to_pylist()
    assert [
        (r["id"], r["start"], r["end"], r["reasons"], json.loads(r["peak"])) for r in table
    ] == [(i.id, i.start, i.end, i.reasons, i.peak) for i in stored]
    rows = list(csv.DictReader(io.StringIO(_export(detected, "incidents", "csv").decode())))
    assert [(r["target"], r["start"], r["end"], r["worst"], r["reasons"]) for r in rows] == [
        (
            i.target,
            format_ts(i.start),
            format_ts(i.end) if i.end else "",
            i.worst.value,
            ";".join(i.reasons),
        )
        for i in stored
    ]


def test_transitions_export_round_trips(detected: Store) -> None:
    stored = detection.transitions_between(detected, SINCE, UNTIL)
    lines = _export(detected, "transitions", "jsonl").decode().splitlines()
    assert [json.loads(line) for line in lines] == [
        t.to_dict() | {"details": t.details} for t in stored
    ]
    table = pq.read_table(io.BytesIO(_export(detected, "transitions", "parquet"))).to_pylist()
    assert [(r["ts"], r["target"], r["old"], r["new"], r["reasons"]) for r in table] == [
        (t.ts, t.target, t.old.value, t.new.value, t.reasons) for t in stored
    ]
