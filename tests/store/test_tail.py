"""Following the results table (`monitor.store.tail`): every result handed out once, in id
order, including one whose id was taken before a later one committed (PostgreSQL's sequences)."""

from __future__ import annotations

from datetime import timedelta

from monitor.result import ProbeResult
from monitor.store import Store, results
from monitor.store.results import to_row
from monitor.store.tail import HOLES_MAX, Tail
from tests.factories import T0, probe


def _result(i: int) -> ProbeResult:
    return probe(T0 + timedelta(seconds=i), f"openai/m{i}")


def _store_with_ids(store: Store, ids: list[int]) -> None:
    """Rows with these ids, as transactions that took them earlier commit later."""
    with store.session() as session:
        for i in ids:
            row = to_row(_result(i))
            row.id = i
            session.add(row)


def _ids(handed: list[ProbeResult]) -> list[int]:
    return [int(r.target.removeprefix("openai/m")) for r in handed]


def test_each_new_result_is_handed_out_once_in_id_order(store: Store) -> None:
    tail = Tail.at_end(store)
    results.record(store, [_result(i) for i in (1, 2, 3)])
    assert _ids(tail.read(store)) == [1, 2, 3]
    results.record(store, [_result(4)])
    assert _ids(tail.read(store)) == [4]
    assert tail.read(store) == []


def test_ids_committed_after_a_higher_one_are_still_handed_out_once(store: Store) -> None:
    tail = Tail.at_end(store)
    _store_with_ids(store, [1, 2, 10])  # 3 … 9 taken by slower transactions, not committed yet
    assert _ids(tail.read(store)) == [1, 2, 10]
    _store_with_ids(store, [5, 6])
    assert _ids(tail.read(store)) == [5, 6]
    _store_with_ids(store, [3, 4, 7, 8, 9, 11])
    assert _ids(tail.read(store)) == [3, 4, 7, 8, 9, 11]
    assert tail.read(store) == []


def test_more_holes_than_can_be_named_are_still_found(store: Store) -> None:
    tail = Tail.at_end(store)
    top = HOLES_MAX + 10
    _store_with_ids(store, [1, top])
    assert _ids(tail.read(store)) == [1, top]
    _store_with_ids(store, [2, top - 1])
    assert _ids(tail.read(store)) == [2, top - 1]
    assert tail.read(store) == []


def test_a_hole_older_than_the_lag_is_given_up(store: Store) -> None:
    now = [0.0]
    tail = Tail(0, lag=60.0, clock=lambda: now[0])
    _store_with_ids(store, [1, 3])
    assert _ids(tail.read(store)) == [1, 3]
    now[0] = 61.0
    assert tail.read(store) == []  # the floor passes 3: id 2 is taken to be lost
    _store_with_ids(store, [2, 4])
    assert _ids(tail.read(store)) == [4]
