"""Detection's tables and queries, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from monitor.detect.types import IncidentRecord, Status, TargetStatus, Transition
from monitor.store import Store, detection
from tests.factories import MINUTE, T0

A, B = "openai/gpt-4o-mini", "anthropic/claude-haiku-4-5"


def test_transitions_read_back_in_time_order_with_their_figures(any_store: Store) -> None:
    details = {"latency": {"value_ms": 2400.0, "baseline_ms": 800.0, "ratio": 3.0}}
    detection.save_transitions(
        any_store,
        [
            Transition(T0 + 5 * MINUTE, A, Status.DEGRADED, Status.OPERATIONAL),
            Transition(T0, A, Status.OPERATIONAL, Status.DEGRADED, ["latency"], details),
            Transition(T0 + MINUTE, B, Status.OPERATIONAL, Status.DOWN, ["errors"]),
        ],
    )
    found = detection.transitions_between(any_store, T0, T0 + 10 * MINUTE)
    assert [(t.target, t.new) for t in found] == [
        (A, Status.DEGRADED),
        (B, Status.DOWN),
        (A, Status.OPERATIONAL),
    ]
    assert found[0].details == details and found[0].ts == T0
    assert [t.target for t in detection.transitions_between(any_store, T0, None, targets=[B])] == [
        B
    ]
    assert detection.transitions_between(any_store, T0 + MINUTE, T0 + 5 * MINUTE)[0].target == B
    assert detection.latest_transitions(any_store, 1)[0].new is Status.OPERATIONAL


def test_an_incident_is_stored_open_then_closed(any_store: Store) -> None:
    incident = IncidentRecord(A, T0, Status.DEGRADED, reasons=["latency"], peak={"latency": {}})
    detection.save_incidents(any_store, [incident])
    assert incident.id is not None
    [still_open] = detection.open_incidents(any_store)
    assert (still_open.id, still_open.end, still_open.worst) == (incident.id, None, Status.DEGRADED)

    incident.worst, incident.end = Status.DOWN, T0 + 30 * MINUTE
    incident.reasons = ["errors", "latency"]
    detection.save_incidents(any_store, [incident])
    assert detection.open_incidents(any_store) == []
    closed = detection.incident(any_store, incident.id)
    assert closed is not None
    assert (closed.worst, closed.end, closed.reasons) == (
        Status.DOWN,
        T0 + 30 * MINUTE,
        ["errors", "latency"],
    )


def test_incidents_between_are_those_overlapping_the_window(any_store: Store) -> None:
    hour = timedelta(hours=1)
    detection.save_incidents(
        any_store,
        [
            IncidentRecord(A, T0, Status.DOWN, end=T0 + hour),  # before the window
            IncidentRecord(A, T0 + 2 * hour, Status.DEGRADED, end=T0 + 4 * hour),  # overlaps
            IncidentRecord(B, T0 + 3 * hour, Status.DEGRADED),  # open, inside
            IncidentRecord(B, T0 + 9 * hour, Status.DEGRADED, end=T0 + 10 * hour),  # after
        ],
    )
    found = detection.incidents_between(any_store, T0 + 3 * hour, T0 + 5 * hour)
    assert [(i.target, i.start) for i in found] == [(A, T0 + 2 * hour), (B, T0 + 3 * hour)]
    only_b = detection.incidents_between(any_store, T0 + 3 * hour, T0 + 5 * hour, targets=[B])
    assert [i.target for i in only_b] == [B]


def test_the_current_status_of_a_target_is_replaced_not_appended(any_store: Store) -> None:
    first = TargetStatus(A, Status.OPERATIONAL, T0)
    detection.save_detection(any_store, statuses=[first], now=T0)
    later = TargetStatus(A, Status.DEGRADED, T0 + MINUTE, ["quality"], {"quality": {"x": 1}})
    detection.save_detection(any_store, statuses=[later], now=T0 + MINUTE)
    assert detection.stored_statuses(any_store) == {A: later}
