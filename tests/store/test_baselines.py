"""Seasonal baselines in the store: bins written, replaced and read back, restart-safe."""

from __future__ import annotations

from monitor.store import Store
from monitor.store.baselines import load_seasonal, save_seasonal

KEY = ("openai/gpt-4o-mini", "default", "short", "latency")


def test_bins_are_written_replaced_and_read_back(store: Store) -> None:
    assert save_seasonal(store, [(KEY, {"version": 1, "last": 1.0})]) == 1
    save_seasonal(store, [(KEY, {"version": 1, "last": 2.0})])
    other = ("openai/gpt-4o-mini", "default", "long", "ttft")
    save_seasonal(store, [(other, {"version": 1, "last": 3.0})])
    assert load_seasonal(store) == {
        KEY: {"version": 1, "last": 2.0},
        other: {"version": 1, "last": 3.0},
    }


def test_nothing_to_write_writes_nothing(store: Store) -> None:
    assert save_seasonal(store, []) == 0
    assert load_seasonal(store) == {}
