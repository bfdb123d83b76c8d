"""Leading or following: which monitor runs detection, incidents, alerts and the periodic work.

Every `brownout run` probes its targets and stores the results. Exactly one of the monitors on a
database (the *leader*, holder of `monitor.store.lease`) also runs the pipeline behind the probes
(`monitor.pipeline.services`): detection over the results every monitor stores (read back from the
database with `monitor.store.tail`, so a follower's region counts), incidents, alerts and their
delivery, reminders, retention, scheduled reports and the providers' status pages. The others
follow: they keep trying to take the lease, and the one that gets it after the leader stops or
dies rebuilds detection from the database (`DetectionService.restore`: baselines from the last
day of results, open incidents and current statuses as stored) and carries on.

    leadership = Leadership(config, store)
    monitor = Monitor(config, store, client, sinks=[leadership])
    scheduler = Scheduler(monitor, periodic=leadership.periodic(monitor.in_pipeline, client))
    await leadership.start(monitor.in_pipeline, client)   # logs "leads" or "follows"
    ...
    await leadership.stop()                                # hands the lease over at once

Every write of the leader's services goes through a `FencedStore`: once another monitor holds
the lease under a newer token, those writes fail (`Fenced`) and this monitor steps down, so a
paused ex-leader never adds a transition, an incident, an alert or an outbox claim.

Timing: the lease lasts `ttl` (the shortest probe interval, clamped to 2 s … 30 s) and is renewed
every `ttl / 4` from a thread of its own (a busy event loop or a long restore does not let it run
out); a follower tries as often. After a SIGKILL, a follower takes over within
`ttl + ttl / 4` plus its restore, under two probe intervals.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import threading
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import httpx

from monitor.config import Config
from monitor.detect.types import TargetStatus
from monitor.pipeline.services import InPipeline, Periodic, Services, build_services
from monitor.result import ProbeResult
from monitor.store import Store, lease
from monitor.store.lease import FencedStore, LeaseInfo
from monitor.store.tail import Tail, max_id

log = logging.getLogger("brownout")

MIN_TTL_S, MAX_TTL_S = 2.0, 30.0
FEED_EVERY_S = 1.0


def lease_ttl(config: Config) -> float:
    """How long a lease lasts: the shortest probe interval, clamped to 2 s … 30 s."""
    intervals = [t.interval for t in config.targets()]
    shortest = min(intervals, default=config.schedule.interval)
    return min(max(shortest, MIN_TTL_S), MAX_TTL_S)


def default_holder() -> str:
    """This process, as the lease names it: `host:pid`."""
    return f"{socket.gethostname()}:{os.getpid()}"


Build = Callable[[Config, Store], Services]


class Leadership:
    """This process's side of the lease, and the leader's services while it holds it.

    A `Sink` for the monitor's own batches: when leading, each stored batch makes it read every
    new result from the database (its own and other monitors') into detection at once.
    """

    def __init__(
        self,
        config: Config,
        store: Store,
        *,
        build: Build = build_services,
        holder: str | None = None,
        ttl: float | None = None,
    ) -> None:
        self.config = config
        self.store = store
        self.build = build
        self.holder = holder or default_holder()
        self.region = config.region
        self.ttl = ttl if ttl is not None else lease_ttl(config)
        self.token: int | None = None
        self.services: Services | None = None
        self.leader: LeaseInfo | None = None  # the lease as last read (who leads)
        self.takeovers = 0
        self._fenced: FencedStore | None = None
        self._tail: Tail | None = None
        self._jobs: list[Periodic] = []
        self._in_pipeline: InPipeline | None = None
        self._client: httpx.AsyncClient | None = None
        self._task: asyncio.Task[None] | None = None
        self._lost = False
        self._failing = False
        self._term: threading.Event | None = None  # set to end the renewing thread

    # --- what others see ------------------------------------------------------------------------

    @property
    def leading(self) -> bool:
        return self.services is not None and not self._lost

    def statuses(self) -> dict[str, TargetStatus]:
        """Detection's statuses while leading; empty while following."""
        services = self.services
        return dict(services.detection.statuses()) if services is not None else {}

    def as_dict(self) -> dict[str, Any]:
        """This monitor's role and who leads, for `/healthz`."""
        leader = self.leader.to_dict() if self.leader is not None else None
        return {
            "role": "leader" if self.leading else "follower",
            "monitor": self.holder,
            "region": self.region,
            "token": self.token if self.leading else None,
            "leader": leader,
        }

    # --- the periodic work, gated -----------------------------------------------------------------

    def periodic(self, in_pipeline: InPipeline, client: httpx.AsyncClient) -> list[Periodic]:
        """The leader's periodic jobs (`Services.periodic`), each running only while this monitor
        leads, and the feed that reads other monitors' results into detection."""
        template = self.build_template().periodic(in_pipeline, client)
        jobs: list[Periodic] = [(FEED_EVERY_S, self._feed_job(in_pipeline))]
        for index, (every, _work) in enumerate(template):
            jobs.append((every, self._gated(index)))
        return jobs

    def build_template(self) -> Services:
        return build_services(self.config, self.store, restore=False)

    def _gated(self, index: int) -> Callable[[], Awaitable[object]]:
        async def job() -> object:
            jobs = self._jobs
            if not self.leading or index >= len(jobs):
                return None
            return await jobs[index][1]()

        return job

    def _feed_job(self, in_pipeline: InPipeline) -> Callable[[], Awaitable[object]]:
        async def feed() -> object:
            if self.leading:
                # At shutdown the scheduler cancels running jobs; the feed in the pipeline's
                # thread finishes regardless, so there is nothing to report.
                with contextlib.suppress(asyncio.CancelledError):
                    await in_pipeline(self.feed)
            return None

        return feed

    # --- the sink ---------------------------------------------------------------------------------

    def on_results(self, batch: Sequence[ProbeResult]) -> None:
        if self.leading:
            self.feed()

    def feed(self) -> int:
        """Read the results stored since the last feed (every monitor's) into detection, and the
        transitions into alerts. Runs in the pipeline's thread. Returns how many were read."""
        services, tail = self.services, self._tail
        if services is None or tail is None or self._lost:
            return 0
        new = tail.read(self.store)
        if new:
            services.transitions(services.detection.observe(new))
        return len(new)

    # --- the lease --------------------------------------------------------------------------------

    async def start(self, in_pipeline: InPipeline, client: httpx.AsyncClient) -> None:
        """Try the lease once (and say in one line whether this monitor leads or follows), then
        keep it, or keep trying for it, every `ttl / 4`."""
        self._in_pipeline, self._client = in_pipeline, client
        try:
            await self._attempt(first=True)
        except Exception as exc:  # the database is down, locked or read-only: probe on
            log.warning("this monitor follows for now: the lease cannot be read (%s)", exc)
        self._task = asyncio.create_task(self._keep())

    async def stop(self) -> None:
        """Stop trying; when leading, release the lease so a follower takes over at once."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._term is not None:
            self._term.set()  # no renewal after the release
        if self.token is not None and self.leading:
            token = self.token
            with contextlib.suppress(Exception):
                await asyncio.to_thread(lease.release, self.store, self.holder, token)
                log.info("released the lead (token %d)", token)
        self._step_down(None)

    async def _keep(self) -> None:
        while True:
            await asyncio.sleep(self.ttl / 4)
            try:
                await self._attempt()
            except Exception as exc:
                if not self._failing:  # one line per streak, not one every ttl/4
                    log.warning("the lease cannot be read or written: %s", exc)
                self._failing = True
            else:
                if self._failing:
                    log.info("the lease can be read again")
                self._failing = False

    async def _attempt(self, *, first: bool = False) -> None:
        if self._lost:
            self._step_down("the lease expired or was taken over")
        if self._term is not None:
            return  # leading (or taking over): the renewing thread keeps the lease
        won: int | None = await asyncio.to_thread(
            lease.acquire, self.store, self.holder, self.region, self.ttl
        )
        self.leader = await asyncio.to_thread(lease.current, self.store)
        if won is None:
            if first:
                log.info("this monitor follows: %s leads", _describe(self.leader))
            return
        await self._take_over(won)

    async def _take_over(self, token: int) -> None:
        assert self._in_pipeline is not None and self._client is not None
        # Renewed from its own thread from now on: a busy event loop or a long restore of
        # detection must not let the lease run out.
        term = self._term = threading.Event()
        threading.Thread(
            target=self._renew, args=(token, term), name="brownout-lease", daemon=True
        ).start()
        fenced = lease.fenced_store(self.store, token, on_fenced=self._on_fenced)
        floor = await asyncio.to_thread(max_id, self.store)

        def build() -> Services:
            return self.build(self.config, fenced)

        try:
            services = await self._in_pipeline(build)
        except Exception:
            fenced.close()
            self._step_down(None)
            raise
        self.token, self._fenced, self._lost = token, fenced, False
        self._tail = Tail(floor)
        self._jobs = services.periodic(self._in_pipeline, self._client)
        self.services = services
        self.takeovers += 1
        log.info(
            "this monitor leads (token %d, region %s): detection, incidents and alerts run here",
            token,
            self.region,
        )
        # Results stored while detection was being restored.
        await self._in_pipeline(self.feed)

    def _on_fenced(self) -> None:
        self._lost = True

    def _renew(self, token: int, term: threading.Event) -> None:
        """Renew the lease every `ttl / 4` until `term` is set or the lease is lost."""
        failing = False
        while not term.wait(self.ttl / 4):
            try:
                held = lease.renew(self.store, self.holder, token, self.ttl)
            except Exception as exc:  # try again; the fence stops writes if it is taken over
                if not failing:
                    log.warning("could not renew the lead: %s", exc)
                failing = True
                continue
            failing = False
            if not held:
                self._lost = True
                return

    def _step_down(self, why: str | None) -> None:
        if self._term is not None:
            self._term.set()
            self._term = None
        was = self.leading or self._lost
        self.services, self._tail, self._jobs, self._lost = None, None, [], False
        if self._fenced is not None:
            self._fenced.close()
            self._fenced = None
        if was and why:
            log.warning("this monitor no longer leads: %s; it follows now", why)
        self.token = None


def _describe(info: LeaseInfo | None) -> str:
    if info is None or not info.holder:
        return "nobody yet"
    return f"{info.holder} (region {info.region}, token {info.token})"
