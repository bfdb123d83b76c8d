"""A target's status over time as contiguous segments, and the time spent in each status.

Pure functions over `Transition`s: no database here (`monitor.reports.source` reads them).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from monitor.detect.types import Status, Transition

Interval = tuple[datetime, datetime]


@dataclass(frozen=True, slots=True)
class Segment:
    start: datetime
    end: datetime
    status: Status
    reasons: tuple[str, ...] = ()

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()


@dataclass(slots=True)
class StatusTime:
    """Seconds spent in each status inside the range, maintenance taken out first."""

    operational: float = 0.0
    degraded: float = 0.0
    down: float = 0.0
    unknown: float = 0.0
    maintenance: float = 0.0
    by_reason: dict[str, float] = field(default_factory=dict)

    @property
    def known(self) -> float:
        """Time with a known status outside maintenance: the availability denominator."""
        return self.operational + self.degraded + self.down

    @property
    def availability(self) -> float | None:
        """Share of known time not `down` (degraded counts as available), None with no known time."""
        return (self.operational + self.degraded) / self.known if self.known > 0 else None

    def merge(self, other: StatusTime) -> None:
        self.operational += other.operational
        self.degraded += other.degraded
        self.down += other.down
        self.unknown += other.unknown
        self.maintenance += other.maintenance
        for reason, seconds in other.by_reason.items():
            self.by_reason[reason] = self.by_reason.get(reason, 0.0) + seconds


def segments(
    initial: Status, transitions: Sequence[Transition], since: datetime, until: datetime
) -> list[Segment]:
    """The statuses covering `[since, until)`: `initial` at `since`, then each transition in turn.

    `transitions` are one target's, oldest first; those outside the range are ignored.
    """
    out: list[Segment] = []
    status, start = initial, since
    reasons: tuple[str, ...] = ()
    for t in transitions:
        if t.ts < since:
            status, reasons = t.new, tuple(t.reasons)
            continue
        if t.ts >= until:
            break
        if t.ts > start:
            out.append(Segment(start, t.ts, status, reasons))
        status, reasons, start = t.new, tuple(t.reasons), t.ts
    if until > start:
        out.append(Segment(start, until, status, reasons))
    return out


def subtract(segment: Segment, windows: Iterable[Interval]) -> tuple[list[Segment], float]:
    """`segment` with the maintenance `windows` cut out, and the seconds cut."""
    pieces = [segment]
    for w_start, w_end in windows:
        nxt = []
        for piece in pieces:
            if w_end <= piece.start or w_start >= piece.end:
                nxt.append(piece)
                continue
            if w_start > piece.start:
                nxt.append(Segment(piece.start, w_start, piece.status, piece.reasons))
            if w_end < piece.end:
                nxt.append(Segment(w_end, piece.end, piece.status, piece.reasons))
        pieces = nxt
    kept = sum(p.seconds for p in pieces)
    return pieces, segment.seconds - kept


def status_time(parts: Iterable[Segment], windows: Sequence[Interval] = ()) -> StatusTime:
    """Time in each status over `parts`, after taking out the maintenance `windows`."""
    out = StatusTime()
    for segment in parts:
        kept, cut = subtract(segment, windows)
        out.maintenance += cut
        seconds = sum(p.seconds for p in kept)
        if segment.status is Status.OPERATIONAL:
            out.operational += seconds
        elif segment.status is Status.DEGRADED:
            out.degraded += seconds
        elif segment.status is Status.DOWN:
            out.down += seconds
        else:
            out.unknown += seconds
        if segment.status in (Status.DEGRADED, Status.DOWN):
            for reason in segment.reasons:
                out.by_reason[reason] = out.by_reason.get(reason, 0.0) + seconds
    return out


def stretches(parts: Sequence[Segment]) -> list[tuple[datetime, datetime, Status, tuple[str, ...]]]:
    """Runs of consecutive degraded/down segments: `(start, end, worst status, reasons)`.

    Used to derive incidents when the detection store does not provide them.
    """
    out: list[tuple[datetime, datetime, Status, tuple[str, ...]]] = []
    run: list[Segment] = []
    for segment in [*parts, None]:
        if segment is not None and segment.status in (Status.DEGRADED, Status.DOWN):
            run.append(segment)
            continue
        if run:
            worst = max((s.status for s in run), key=lambda s: s.severity)
            reasons = tuple(dict.fromkeys(r for s in run for r in s.reasons))
            out.append((run[0].start, run[-1].end, worst, reasons))
            run = []
    return out
