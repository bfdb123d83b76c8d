"""Storage: the only place that reads or writes the database.

`open_store(url)` gives a `Store`; the query and write functions of each area take it:
`results.record(store, [...])`, `results.between(store, since, until)`, …
"""

from monitor.store.db import Store, open_store

__all__ = ["Store", "open_store"]
