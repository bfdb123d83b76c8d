"""Running probes: once, or on a schedule, and handing every batch of results down the pipeline.

    results → store (`results.record`) → sinks (detection → alerts, …)

`Monitor` owns the shared httpx client and the pipeline; `Scheduler` adds APScheduler's asyncio
scheduler on top: one job per target and cadence (its canaries' `every:`, grouped into rounds by
`Config.rounds_for`), interval with jitter, `max_instances=1`, coalescing; a burst canary's job
sends its N probes at once at a fresh random time in each of its periods (drawn from the
monitor's `rng`, so a seeded one gives the same times); and a graceful stop that lets in-flight probes finish for a grace period and records the rest as
`cancelled`. Each target's probes run in their own task, so a hung provider never delays another
target. Results go to the pipeline thread (`monitor.pipeline.writer.ResultWriter`): a probe hands its
batch over and never waits on the database, which may be slow, locked or away; the writer keeps
what it cannot write yet (memory, then a spool file) and writes it, oldest first, when it can.
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import httpx
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from monitor.config import CanaryConfig, Config, Round
from monitor.errors import StorageError
from monitor.http_pool import ShardedTransport, shards_for
from monitor.pipeline.writer import ResultWriter, spool_path_for
from monitor.probe import run_probe
from monitor.providers.body import ACCEPT_ENCODING
from monitor.result import Outcome, ProbeResult, utcnow
from monitor.secrets import Scrubber
from monitor.store import Store
from monitor.target import Target

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
START_RATE = 50.0  # first probes a second at most, when many targets start at once


class Sink(Protocol):
    """Something that consumes each batch of stored results (detection, alerts, a live table).

    `on_results` runs in the pipeline thread, one batch at a time, after the batch has been
    committed; a batch may hold several targets' results (what one transaction wrote), in
    order. It must not raise (the pipeline logs and carries on if it does).
    """

    def on_results(self, batch: Sequence[ProbeResult]) -> None: ...


@dataclass
class Health:
    """What the monitor knows about itself, for `/healthz` and the terminal."""

    started: float = field(default_factory=time.monotonic)
    last_result: float | None = None
    stored: int = 0
    store_errors: int = 0  # failed write attempts (each is retried)
    scheduler_running: bool = False
    backlog: Callable[[], dict[str, Any]] | None = None  # the writer's state

    def as_dict(self) -> dict[str, Any]:
        now = time.monotonic()
        writer = self.backlog() if self.backlog is not None else {}
        return writer | {
            "scheduler_running": self.scheduler_running,
            "uptime_s": round(now - self.started, 3),
            "last_probe_age_s": None
            if self.last_result is None
            else round(now - self.last_result, 3),
            "results_stored": self.stored,
            "store_errors": self.store_errors,
        }


def make_client(config: Config, *, shards: int | None = None) -> httpx.AsyncClient:
    """The one HTTP client every probe shares (connection reuse keeps setup out of TTFT).

    Its connections are split over `shards` pools (default: one per 32 connections), since
    httpcore's cost per request grows with its pool's size (`monitor.http_pool`)."""
    limits = httpx.Limits(
        max_connections=config.schedule.max_concurrency * 2,
        max_keepalive_connections=config.schedule.max_concurrency * 2,
        keepalive_expiry=max(config.schedule.interval * 2, 30.0),
    )
    assert limits.max_connections is not None
    count = shards if shards is not None else shards_for(limits.max_connections)
    return httpx.AsyncClient(
        transport=ShardedTransport(limits, count),
        timeout=httpx.Timeout(config.schedule.timeout),
        headers={"user-agent": "brownout/0.1", "accept-encoding": ACCEPT_ENCODING},
        follow_redirects=False,
        trust_env=False,
    )


class Monitor:
    """Probes targets and sends their results down the pipeline. Collaborators are passed in."""

    def __init__(
        self,
        config: Config,
        store: Store,
        client: httpx.AsyncClient,
        *,
        sinks: Sequence[Sink] = (),
        clock: Clock = utcnow,
        rng: random.Random | None = None,
    ) -> None:
        self.config = config
        self.store = store
        self.client = client
        self.sinks = list(sinks)
        self.clock = clock
        self.rng = rng or random.Random()
        self.health = Health()
        self.scrubber = Scrubber(config.secrets())
        self._limit = asyncio.Semaphore(config.schedule.max_concurrency)
        self.writer = ResultWriter(
            store,
            self.sinks,
            health=self.health,
            spool_path=spool_path_for(config.storage.url, config.region),
        )
        self.health.backlog = self.writer.state

    def timeout_for(self, target: Target) -> float:
        return target.timeout

    async def probe(self, target: Target, canary: CanaryConfig) -> ProbeResult:
        """One probe. Never raises: a probe cancelled because the monitor is stopping (in flight
        or still queued for a slot) comes back as a `cancelled` result."""
        started = self.clock()
        try:
            async with self._limit:
                return await run_probe(
                    self.client,
                    target,
                    canary,
                    timeout=self.timeout_for(target),
                    region=self.config.region,
                    scrubber=self.scrubber,
                    rng=self.rng,
                    now=self.clock,
                )
        except asyncio.CancelledError:
            log.info("probe %s/%s cancelled at shutdown", target.name, canary.name)
            return cancelled_result(target, canary, started, self.config.region)

    async def probe_target(
        self, target: Target, canaries: Sequence[CanaryConfig] | None = None
    ) -> list[ProbeResult]:
        """Every canary of `target`, one after the other, then hand the batch to the writer."""
        batch = []
        for canary in canaries if canaries is not None else self.config.canaries_for(target):
            result = await self.probe(target, canary)
            batch.append(result)
            if result.outcome is Outcome.CANCELLED:
                break  # stopping: the remaining canaries were never started
        self.submit(batch)
        return batch

    async def probe_round(self, target: Target, round_: Round) -> list[ProbeResult]:
        """One run of a round: its canaries one after the other, or for a burst its `burst`
        probes at once; the batch goes to the writer."""
        if round_.burst == 1:
            return await self.probe_target(target, round_.canaries)
        batch = list(
            await asyncio.gather(
                *(self.probe(target, c) for c in round_.canaries for _ in range(round_.burst))
            )
        )
        self.submit(batch)
        return batch

    async def run_once(
        self, targets: Sequence[Target], canary_names: Sequence[str] | None = None
    ) -> list[ProbeResult]:
        """Every selected probe once, targets in parallel; returned in order once written (or
        kept in the backlog, when the database fails)."""
        jobs = []
        for target in targets:
            canaries = [
                c
                for c in self.config.canaries_for(target)
                if not canary_names or c.name in canary_names
            ]
            if canaries:
                jobs.append(self.probe_target(target, canaries))
        batches = await asyncio.gather(*jobs)
        await self.flush()
        return [r for batch in batches for r in batch]

    def submit(self, batch: Sequence[ProbeResult]) -> None:
        """Hand `batch` to the pipeline thread: stored, then fed to the sinks; returns at once."""
        self.writer.start()
        self.writer.submit(batch)

    async def flush(self, within: float = 60.0) -> bool:
        """Wait until every handed-over result is written (True), or the database fails."""
        return bool(await asyncio.to_thread(self.writer.flush, within))

    async def close(self, within: float = 10.0) -> None:
        """Write what can be written `within` seconds; spool the rest for the next start."""
        await asyncio.to_thread(self.writer.close, within)

    async def in_pipeline(self, work: Callable[[], Any]) -> Any:
        """Run `work` in the pipeline's thread, serialised with result batches."""
        self.writer.start()
        return await asyncio.wrap_future(self.writer.call(work))


def cancelled_result(
    target: Target, canary: CanaryConfig, started: datetime, region: str
) -> ProbeResult:
    return ProbeResult(
        ts=started,
        target=target.name,
        provider=target.provider,
        model=target.model,
        canary=canary.name,
        region=region,
        outcome=Outcome.CANCELLED,
        error="the monitor stopped before the probe finished",
    )


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def period_end(ts: datetime, every: float) -> datetime:
    """The end of the period of `every` seconds (counted from the Unix epoch) holding `ts`."""
    elapsed = (ts - EPOCH).total_seconds()
    return EPOCH + timedelta(seconds=(math.floor(elapsed / every) + 1) * every)


def burst_time(after: datetime, every: float, rng: random.Random) -> datetime:
    """When a burst sent once per `every` seconds next goes: a uniformly random moment of the
    period holding `after` if that moment is still to come, else of the next period."""
    start = period_end(after, every) - timedelta(seconds=every)
    while True:
        when = start + timedelta(seconds=rng.uniform(0, every))
        if when > after:
            return when
        start += timedelta(seconds=every)


class Scheduler:
    """APScheduler's asyncio scheduler driving a Monitor: one job per target."""

    def __init__(
        self,
        monitor: Monitor,
        *,
        grace: float = 10.0,
        periodic: Sequence[tuple[float, Callable[[], Awaitable[object]]]] = (),
    ) -> None:
        self.monitor = monitor
        self.grace = grace
        self.periodic = list(periodic)
        self._tasks: set[asyncio.Task[Any]] = set()
        self._scheduler: AsyncIOScheduler | None = None
        self._stopping = False
        self.bursts: dict[str, datetime] = {}  # job id -> when its next burst is due

    def start(self) -> None:
        """Add one interval job per target and start.

        First runs are spread over the jitter window, and wider when there are many targets (no
        more than `START_RATE` first probes a second, up to a whole interval), so that 2,000
        targets do not all fire in the same few seconds of every interval.
        """
        config = self.monitor.config
        self._scheduler = AsyncIOScheduler(timezone="UTC")
        now = datetime.now().astimezone()
        rng = self.monitor.rng
        count = len(config.targets())
        for target in config.targets():
            for number, round_ in enumerate(config.rounds_for(target)):
                # The target's first round keeps the target's name as its job's id.
                job_id = target.name if number == 0 else f"{target.name}#{number}"
                if round_.burst > 1:
                    self._add_burst(target, round_, job_id, now)
                    continue
                interval = round_.every
                spread = interval * config.schedule.jitter
                first = max(spread, 0.5, min(interval, count / START_RATE))
                # The trigger starts at the first run: later runs keep that phase (a trigger
                # that started "now" would bring every target back to the same instant).
                start = now + timedelta(seconds=rng.uniform(0, first))
                self._scheduler.add_job(
                    self._spawn,
                    # APScheduler's jitter only delays (0..spread): centre it, so the mean
                    # interval is the configured one (it used to be interval + spread/2).
                    IntervalTrigger(
                        seconds=interval - spread / 2, jitter=spread or None, start_date=start
                    ),
                    args=[target, round_],
                    id=job_id,
                    name=job_id,
                    max_instances=1,
                    coalesce=True,
                    misfire_grace_time=max(1, int(interval)),
                    next_run_time=start,
                )
        for every, work in self.periodic:
            self._scheduler.add_job(
                self._spawn_work,
                IntervalTrigger(seconds=every),
                args=[work],
                max_instances=1,
                coalesce=True,
                misfire_grace_time=max(1, int(every)),
            )
        self._scheduler.start()
        self.monitor.health.scheduler_running = True
        log.info("scheduler started: %d target(s)", len(config.targets()))

    def _add_burst(self, target: Target, round_: Round, job_id: str, after: datetime) -> None:
        """Schedule the next burst of `round_`: a random time in the first of its periods
        (anchored at the Unix epoch, so `every: 1d` is a UTC day) that is still to come."""
        assert self._scheduler is not None
        when = burst_time(after, round_.every, self.monitor.rng)
        self._scheduler.add_job(
            self._burst,
            DateTrigger(run_date=when),
            args=[target, round_, job_id],
            id=job_id,
            name=job_id,
            replace_existing=True,
            misfire_grace_time=max(1, int(round_.every)),
        )
        self.bursts[job_id] = when

    async def _burst(self, target: Target, round_: Round, job_id: str) -> None:
        if self._stopping:
            return
        when = self.bursts.get(job_id)
        # The next burst is drawn in the following period, so there is one a period.
        self._add_burst(target, round_, job_id, period_end(when or utcnow(), round_.every))
        await self._spawn(target, round_)

    async def _spawn(self, target: Target, round_: Round) -> None:
        # Each run is its own task, tracked so that stop() can wait for it or cancel it.
        # APScheduler's max_instances=1 holds because this coroutine awaits the task.
        if self._stopping:
            return
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        try:
            await self.monitor.probe_round(target, round_)
        finally:
            if task is not None:
                self._tasks.discard(task)

    async def _spawn_work(self, work: Callable[[], Awaitable[object]]) -> None:
        if self._stopping:
            return
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)  # stop() waits for it as for a probe
        try:
            await work()
        except asyncio.CancelledError:
            # Cancelled at shutdown after the grace period: the work is periodic, nothing is lost.
            log.debug("periodic task cancelled at shutdown")
        except StorageError as exc:
            # The writer reports the database's state once; this only adds detail.
            failing = self.monitor.writer.state()["database"] == "failing"
            log.log(logging.DEBUG if failing else logging.WARNING, "periodic task: %s", exc)
        except Exception:
            log.exception("periodic task failed")
        finally:
            if task is not None:
                self._tasks.discard(task)

    async def stop(self) -> None:
        """Stop starting probes; let in-flight ones finish for `grace` s; cancel (and record) the rest."""
        self._stopping = True
        running = self._scheduler is not None and self._scheduler.running
        if running:
            assert self._scheduler is not None
            # Pause first: shutting APScheduler's asyncio executor down cancels running jobs.
            self._scheduler.pause()
        pending = {t for t in self._tasks if not t.done()}
        if pending:
            log.info("waiting up to %.1fs for %d in-flight probe(s)", self.grace, len(pending))
            _done, still = await asyncio.wait(pending, timeout=self.grace)
            for task in still:
                task.cancel()
            if still:
                await asyncio.gather(*still, return_exceptions=True)
        if running:
            assert self._scheduler is not None
            self._scheduler.shutdown(wait=False)
        self.monitor.health.scheduler_running = False
