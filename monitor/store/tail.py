"""Following the results table as monitors in every region write to it: what the leader's
detection reads.

    tail = Tail.at_end(store)            # start after what is stored now
    new = tail.read(store)               # results stored since, by any monitor, oldest first

Ids come from one sequence but concurrent transactions commit out of id order on PostgreSQL
(a monitor's batch with id 10 can commit after another's with id 11), so reading `id > last`
alone would skip the slower batch for good. The tail keeps reading from a floor a while behind
(`lag`, by the time it was seen) and remembers which ids above the floor it has handed out.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from datetime import UTC
from typing import Any

from sqlalchemy import func
from sqlalchemy import select as sa_select

from monitor.result import ProbeResult
from monitor.store.db import Store
from monitor.store.tables import ProbeRow

_TABLE = ProbeRow.__table__  # type: ignore[attr-defined]
_FIELDS = [name for name in ProbeRow.model_fields if name != "id"]
HOLES_MAX = 500
"""Past this many ids below the highest handed out still unseen, a read asks for every id above
the floor instead of naming them."""


def max_id(store: Store) -> int:
    """The highest result id stored (0 when there is none)."""
    with store.session() as session:
        return int(session.execute(sa_select(func.max(_TABLE.c.id))).scalar() or 0)


class Tail:
    """New result rows, each handed out once, in id order."""

    def __init__(
        self, floor: int, *, lag: float = 60.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.floor = floor  # every id <= floor was handed out (or predates the tail)
        self.high = floor  # the highest id handed out
        self.lag = lag
        self.clock = clock
        self.seen: set[int] = set()
        self._marks: deque[tuple[float, int]] = deque()  # (when, highest id seen then)

    @classmethod
    def at_end(cls, store: Store, **kwargs: object) -> Tail:
        return cls(max_id(store), **kwargs)  # type: ignore[arg-type]

    def read(self, store: Store, limit: int = 20000) -> list[ProbeResult]:
        """Results stored since the last read (by any monitor), in id order."""
        with store.session() as session:
            ids = [int(i) for (i,) in session.execute(self._unseen())]
            fresh = [i for i in ids if i not in self.seen][:limit]
            rows: list[Any] = []
            for start in range(0, len(fresh), 1000):
                part = fresh[start : start + 1000]
                query = (
                    sa_select(*(_TABLE.c[n] for n in _FIELDS))
                    .where(_TABLE.c.id.in_(part))
                    .order_by(_TABLE.c.id)
                )
                rows.extend(session.execute(query))
        self.seen.update(fresh)
        self.high = max(self.high, max(fresh, default=self.high))
        self._advance(max(self.high, max(ids, default=self.floor)))
        out = []
        for row in rows:
            values = dict(zip(_FIELDS, row, strict=True))
            if values["ts"].tzinfo is None:
                values["ts"] = values["ts"].replace(tzinfo=UTC)
            out.append(ProbeResult(**values))
        return out

    def _unseen(self) -> Any:
        """The ids above the floor not handed out yet: those above the highest handed out, and
        the holes below it (ids a slower transaction may still commit). Reading every id above
        the floor instead cost a lag's worth of rows (4,000 at 2,000 targets) per read."""
        holes = [i for i in range(self.floor + 1, self.high) if i not in self.seen]
        above = _TABLE.c.id > (self.high if len(holes) <= HOLES_MAX else self.floor)
        where = above | _TABLE.c.id.in_(holes) if holes and len(holes) <= HOLES_MAX else above
        return sa_select(_TABLE.c.id).where(where).order_by(_TABLE.c.id)

    def _advance(self, highest: int) -> None:
        now = self.clock()
        self._marks.append((now, highest))
        moved = False
        while self._marks and self._marks[0][0] <= now - self.lag:
            _, mark = self._marks.popleft()
            if mark > self.floor:
                self.floor, moved = mark, True
        if moved:
            self.seen = {i for i in self.seen if i > self.floor}
