"""DetectionService: detection over stored results, persisted, and rebuilt after a restart."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import select

from monitor.config import Config
from monitor.detect.seasonal import HOUR_OF_DAY
from monitor.detect.types import Reason, Status, TargetStatus
from monitor.pipeline.detection import DetectionService
from monitor.result import Outcome, ProbeResult
from monitor.store import Store, detection, results
from monitor.store.detection import TargetStatusRow
from tests.factories import MINUTE, T0, cyclic_stream, healthy_stream, minute_probe

A = "openai/gpt-4o-mini"


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def feed(service: DetectionService, store: Store, batch: list[ProbeResult], clock: Clock) -> None:
    """What `brownout run` does: store a batch, then detect over it."""
    results.record(store, batch)
    clock.now = batch[-1].ts
    service.observe(batch)


def test_an_outage_is_stored_as_transitions_an_incident_and_a_status(store: Store) -> None:
    clock = Clock(T0)
    service = DetectionService(store, Config(), clock)
    service.restore()
    feed(service, store, healthy_stream(0, 300), clock)
    feed(
        service,
        store,
        [minute_probe(300 + k, outcome=Outcome.SERVER_ERROR) for k in range(5)],
        clock,
    )

    assert [(t.old, t.new) for t in detection.transitions_between(store, T0, None)] == [
        (Status.UNKNOWN, Status.OPERATIONAL),
        (Status.OPERATIONAL, Status.DOWN),
    ]
    [incident] = detection.open_incidents(store)
    assert (incident.target, incident.worst, incident.reasons) == (A, Status.DOWN, ["errors"])
    assert incident.start == T0 + 302 * MINUTE
    assert incident.peak["errors"]["rate"] > 0
    assert detection.stored_statuses(store)[A].status is Status.DOWN
    assert service.fleet().status is Status.DOWN


def test_after_a_restart_the_open_incident_is_continued_and_closed(store: Store) -> None:
    clock = Clock(T0)
    before = DetectionService(store, Config(), clock)
    before.restore()
    feed(before, store, healthy_stream(0, 300), clock)
    feed(before, store, [minute_probe(300 + k, outcome=Outcome.TIMEOUT) for k in range(5)], clock)

    after = DetectionService(store, Config(), clock)  # the monitor restarted
    after.restore()
    assert after.statuses()[A].status is Status.DOWN
    feed(after, store, healthy_stream(305, 40), clock)

    assert after.statuses()[A].status is Status.OPERATIONAL
    assert detection.open_incidents(store) == []
    [incident] = detection.incidents_between(store, T0, None)
    assert incident.end is not None and incident.end > incident.start
    assert [t.new for t in detection.transitions_between(store, T0, None)][-1] is Status.OPERATIONAL


def test_a_silent_target_becomes_unknown_on_the_tick(store: Store) -> None:
    clock = Clock(T0)
    service = DetectionService(store, Config(), clock)
    feed(service, store, healthy_stream(0, 10), clock)
    clock.now = T0 + 11 * MINUTE
    assert service.tick() == []
    clock.now = T0 + 20 * MINUTE
    [stale] = service.tick()
    assert stale.new is Status.UNKNOWN
    assert detection.stored_statuses(store)[A].status is Status.UNKNOWN


def test_several_providers_in_trouble_at_once_are_an_intelligence_brownout(store: Store) -> None:
    clock = Clock(T0)
    service = DetectionService(store, Config(), clock)
    for name in ("openai/a", "openai/b", "anthropic/c", "gemini/d"):
        service.detector.force(TargetStatus(name, Status.OPERATIONAL, T0))
    service.detector.force(TargetStatus("openai/a", Status.DOWN, T0))
    service.detector.force(TargetStatus("openai/b", Status.DEGRADED, T0))
    assert not service.fleet().intelligence_brownout  # two models of one provider
    service.detector.force(TargetStatus("gemini/d", Status.DEGRADED, T0))
    fleet = service.fleet()
    assert fleet.intelligence_brownout
    assert fleet.affected_providers == ["gemini", "openai"]
    assert (fleet.status, fleet.summary) == (Status.DOWN, "some down")


def test_seasonal_bins_outlive_a_restart_beyond_the_replayed_day(store: Store) -> None:
    # Three days of a daily cycle: the hour-of-day baseline is on. A restart replays only the
    # last day of results; the stored bins carry the rest.
    clock = Clock(T0)
    before = DetectionService(store, Config(), clock)
    before.restore()
    trace = cyclic_stream(3 * 1440)
    for k in range(0, len(trace), 240):
        feed(before, store, trace[k : k + 240], clock)
    before.save_seasonal(force=True)
    signal = before.detector.region("default").targets[A].metric(Reason.LATENCY)
    assert signal is not None and signal.seasonal is not None
    assert signal.seasonal.mode == HOUR_OF_DAY
    learned = list(signal.seasonal.day.n)

    after = DetectionService(store, Config(), clock)
    after.restore()
    again = after.detector.region("default").targets[A].metric(Reason.LATENCY)
    assert again is not None and again.seasonal is not None
    assert again.seasonal.mode == HOUR_OF_DAY
    assert list(again.seasonal.day.n) == learned  # the replayed day is not counted twice
    assert len(again.seasonal.resid) > 1000  # the residuals are rebuilt by the replay

    cold = DetectionService(store, Config(), clock)  # the same restart without the table
    baselines_table_cleared(store)
    cold.restore()
    lost = cold.detector.region("default").targets[A].metric(Reason.LATENCY)
    assert lost is not None and lost.seasonal is not None
    assert sum(lost.seasonal.day.n) < sum(learned) / 2  # one replayed day, not three


def baselines_table_cleared(store: Store) -> None:
    from sqlmodel import delete

    from monitor.store.baselines import SeasonalBaselineRow

    with store.session() as session:
        session.exec(delete(SeasonalBaselineRow))  # type: ignore[call-overload]


def _status_updated(store: Store) -> datetime:
    with store.session() as session:
        row = session.exec(select(TargetStatusRow).where(TargetStatusRow.target == A)).one()
        return row.updated


def test_a_status_is_written_only_when_it_changes(store: Store) -> None:
    # At 2,000 targets, rewriting every operational target's unchanged row each interval was a
    # third of the pipeline thread's time (bench/load.py).
    clock = Clock(T0)
    service = DetectionService(store, Config(), clock)
    service.restore()
    feed(service, store, healthy_stream(0, 300, wrong_rate=0.0), clock)
    assert service.statuses()[A].status is Status.OPERATIONAL
    written = _status_updated(store)
    feed(service, store, healthy_stream(300, 20, wrong_rate=0.0), clock)
    assert _status_updated(store) == written  # the same status, reasons and figures

    restarted = DetectionService(store, Config(), clock)  # knows what is stored
    restarted.restore()
    feed(restarted, store, healthy_stream(320, 20, wrong_rate=0.0), clock)
    assert _status_updated(store) == written

    feed(
        restarted, store, [minute_probe(340 + k, outcome=Outcome.TIMEOUT) for k in range(5)], clock
    )
    assert detection.stored_statuses(store)[A].status is Status.DOWN
    assert _status_updated(store) > written
