"""`GET /metrics`: a Prometheus collector that reads the store on each scrape.

Counters and histograms (`brownout_probes_total`, `brownout_probe_ttft_seconds`, …) count the
stored results from `LOOKBACK` before the first scrape on: the first scrape sums that day in SQL,
later scrapes only what arrived since, so the cost of a scrape does not grow with the history and
counters stay monotonic even when retention deletes old raw results (Prometheus reads increases,
not absolute values). Results are counted once they are `settle` old (a probe is stored with
its start time, up to a timeout after it started), so a result is never missed by arriving late.
Gauges (status, ratios, tokens/s) describe the recent window.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime, timedelta
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector, CollectorRegistry

from monitor.config import Config
from monitor.detect.types import Status
from monitor.read.now import plain_rule_window, status_now
from monitor.result import utcnow
from monitor.store import Store, detection
from monitor.store import statuspages as official
from monitor.store.probe_stats import Totals, figures, totals
from monitor.telemetry import conventions as gen_ai

TTFT_BOUNDS_S = (0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 8.0, 13.0, 20.0, 30.0)
LATENCY_BOUNDS_S = (0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 8.0, 13.0, 20.0, 30.0, 60.0)
CHUNK_BOUNDS_S = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
"""Time per output chunk: one event of a stream follows another within milliseconds."""
_SERIES = ("provider", "model", "region")
LOOKBACK = timedelta(days=1)
_STATUSES = [s.value for s in Status]

Key = tuple[str, str, str, str]  # provider, model, region, outcome


class StoreCollector(Collector):
    def __init__(
        self,
        store: Store,
        config: Config,
        *,
        clock: Callable[[], datetime] = utcnow,
        settle: timedelta | None = None,
    ) -> None:
        self.store, self.config, self.clock = store, config, clock
        self.settle = settle or timedelta(seconds=config.schedule.timeout + 30)
        self._lock = threading.Lock()
        self._cursor: datetime | None = None
        self._totals: dict[Key, Totals] = {}

    def _advance(self, now: datetime) -> None:
        until = now - self.settle
        if self._cursor is None:
            self._cursor = now - LOOKBACK
        if until <= self._cursor:
            return
        for t in totals(
            self.store,
            self._cursor,
            until,
            ttft_bounds_ms=[b * 1000 for b in TTFT_BOUNDS_S],
            latency_bounds_ms=[b * 1000 for b in LATENCY_BOUNDS_S],
            first_chunk_bounds_ms=[b * 1000 for b in TTFT_BOUNDS_S],
            chunk_gap_bounds_ms=[b * 1000 for b in CHUNK_BOUNDS_S],
        ):
            key = (t.provider, t.model, t.region, t.outcome)
            old = self._totals.get(key)
            if old is None:
                self._totals[key] = t
            else:
                _add(old, t)
        self._cursor = until

    def collect(self) -> Iterator[CounterMetricFamily | GaugeMetricFamily | HistogramMetricFamily]:
        now = self.clock()
        with self._lock:
            self._advance(now)
            rows = list(self._totals.values())
        yield from self._counters(rows)
        yield from self._gauges(now)

    def _counters(
        self, rows: list[Totals]
    ) -> Iterator[CounterMetricFamily | HistogramMetricFamily]:
        probes = CounterMetricFamily(
            "brownout_probes", "Probes stored, by outcome.", labels=[*_SERIES, "outcome"]
        )
        cost = CounterMetricFamily(
            "brownout_probe_cost_usd", "What the probes cost, in US dollars.", labels=_SERIES
        )
        tokens = CounterMetricFamily(
            "brownout_probe_output_tokens", "Output tokens the probes received.", labels=_SERIES
        )
        series: dict[tuple[str, str, str], list[Totals]] = {}
        for t in sorted(rows, key=lambda r: (r.provider, r.model, r.region, r.outcome)):
            probes.add_metric([t.provider, t.model, t.region, t.outcome], t.probes)
            series.setdefault((t.provider, t.model, t.region), []).append(t)
        ttft = HistogramMetricFamily(
            "brownout_probe_ttft_seconds",
            "Time to first token, from the request written to the first content token.",
            labels=_SERIES,
        )
        latency = HistogramMetricFamily(
            "brownout_probe_latency_seconds",
            "Time to the end of the answer, for probes that answered.",
            labels=_SERIES,
        )
        first_chunk = HistogramMetricFamily(
            "brownout_probe_time_to_first_chunk_seconds",
            "Time to the first event of the stream, whatever it holds (OpenTelemetry's "
            "gen_ai.client.operation.time_to_first_chunk).",
            labels=_SERIES,
        )
        per_chunk = HistogramMetricFamily(
            "brownout_probe_time_per_output_chunk_seconds",
            "Each probe's mean time per output chunk after the first: (last chunk - first "
            "chunk) / (chunks - 1), for streams of two chunks or more.",
            labels=_SERIES,
        )
        for labels, group in series.items():
            cost.add_metric(list(labels), sum(t.cost_usd for t in group))
            tokens.add_metric(list(labels), sum(t.output_tokens for t in group))
            for family, bounds, count, total, buckets in (
                (ttft, TTFT_BOUNDS_S, "ttft_count", "ttft_sum_ms", "ttft_buckets"),
                (latency, LATENCY_BOUNDS_S, "latency_count", "latency_sum_ms", "latency_buckets"),
                (
                    first_chunk,
                    TTFT_BOUNDS_S,
                    "first_chunk_count",
                    "first_chunk_sum_ms",
                    "first_chunk_buckets",
                ),
                (
                    per_chunk,
                    CHUNK_BOUNDS_S,
                    "chunk_gap_count",
                    "chunk_gap_sum_ms",
                    "chunk_gap_buckets",
                ),
            ):
                cumulative = [
                    sum(getattr(t, buckets)[i] for t in group) for i in range(len(bounds))
                ]
                n = sum(getattr(t, count) for t in group)
                family.add_metric(
                    list(labels),
                    [(_le(b), c) for b, c in zip(bounds, cumulative, strict=True)] + [("+Inf", n)],
                    sum_value=sum(getattr(t, total) for t in group) / 1000,
                )
        yield from (probes, cost, tokens, ttft, latency, first_chunk, per_chunk)

    def _target_info(self) -> GaugeMetricFamily:
        """`brownout_target_info`: 1 per configured target, with its names in the OpenTelemetry
        GenAI conventions' words, to join on `provider` and `model` (the other series keep
        their labels)."""
        info = GaugeMetricFamily(
            "brownout_target_info",
            "1 per configured target, labelled with its OpenTelemetry GenAI names.",
            labels=[
                "provider",
                "model",
                "gen_ai_provider_name",
                "gen_ai_request_model",
                "server_address",
                "server_port",
            ],
        )
        for target in self.config.targets():
            where = gen_ai.server(target.base_url)
            info.add_metric(
                [
                    target.provider,
                    target.model,
                    gen_ai.provider_name(target.provider, target.base_url),
                    target.model,
                    str(where.get("server.address", "")),
                    str(where.get("server.port", "")),
                ],
                1.0,
            )
        return info

    def _gauges(self, now: datetime) -> Iterator[GaugeMetricFamily]:
        window = plain_rule_window(self.config)
        recent = figures(self.store, now - window, now)
        pair = ["provider", "model"]
        success = GaugeMetricFamily(
            "brownout_probe_success_ratio",
            "Answered over counted probes, recent window.",
            labels=pair,
        )
        tps = GaugeMetricFamily(
            "brownout_tokens_per_second",
            "Mean output tokens per second, recent window.",
            labels=pair,
        )
        passing = GaugeMetricFamily(
            "brownout_canary_pass_ratio",
            "Canary answers that passed their check, recent window.",
            labels=pair,
        )
        last = GaugeMetricFamily(
            "brownout_last_probe_timestamp_seconds",
            "When the newest recent probe started.",
            labels=pair,
        )
        for target, f in sorted(recent.items()):
            labels = list(target.partition("/")[::2])
            for family, value in (
                (success, f.answered_ratio),
                (tps, f.tokens_per_s_mean),
                (passing, f.pass_ratio),
                (last, f.last_ts.timestamp() if f.last_ts else None),
            ):
                if value is not None:
                    family.add_metric(labels, value)
        yield from (success, tps, passing, last)
        yield self._target_info()

        view = status_now(self.store, self.config, now)
        status = GaugeMetricFamily(
            "brownout_target_status",
            "1 for the target's current status word, else 0.",
            labels=[*pair, "status"],
        )
        for target, ts in sorted(view.targets.items()):
            provider, _, model = target.partition("/")
            for word in _STATUSES:
                status.add_metric([provider, model, word], float(ts.status.value == word))
        yield _region_statuses(view.targets)
        leading = GaugeMetricFamily(
            "brownout_leader",
            "1 while a monitor holds the lease (runs detection and alerts), labelled with its "
            "region; 0 when none does.",
            labels=["region"],
        )
        held = view.monitor.leader
        leading.add_metric(
            [held.region if held is not None and held.live else ""],
            float(held is not None and held.live),
        )
        yield leading
        whole = GaugeMetricFamily(
            "brownout_fleet_status",
            "1 for the fleet's current status word, else 0.",
            labels=["status"],
        )
        worst = view.fleet.status.value
        for word in _STATUSES:
            whole.add_metric([word], float(worst == word))
        # The detector's open incidents, plus targets it has no status for that are in trouble
        # by the plain rule: either way a stretch of degraded or down that has not ended.
        opened = detection.open_incidents(self.store)
        count = len(opened) + sum(
            ts.status in (Status.DEGRADED, Status.DOWN)
            for ts in view.targets.values()
            if ts.source != "detector"
        )
        incidents = GaugeMetricFamily(
            "brownout_open_incidents", "Incidents not yet over.", value=count
        )
        yield from (status, whole, incidents)

        components = GaugeMetricFamily(
            "brownout_official_component_status",
            "1 for each provider status page component's posted status word.",
            labels=["page", "component", "status"],
        )
        for c in official.components(self.store):
            components.add_metric([c.page, c.name, c.status], 1.0)
        posted = GaugeMetricFamily(
            "brownout_official_open_incidents",
            "Incidents open on a provider's status page.",
            labels=["page"],
        )
        per_page: dict[str, int] = {p: 0 for p in self.config.statuspages.pages}
        for i in official.incidents_between(self.store, now):
            if i.resolved_at is None and i.status not in ("resolved", "postmortem"):
                per_page[i.page] = per_page.get(i.page, 0) + 1
        for page, n in sorted(per_page.items()):
            posted.add_metric([page], n)
        yield from (components, posted)


def _add(into: Totals, more: Totals) -> None:
    """Add `more`'s counts, sums and buckets to `into` (the same provider, model, region and
    outcome, over a later stretch of time)."""
    for f in dataclasses.fields(Totals):
        mine, theirs = getattr(into, f.name), getattr(more, f.name)
        if isinstance(mine, list):
            setattr(into, f.name, [a + b for a, b in zip(mine, theirs, strict=True)])
        elif isinstance(mine, int | float) and not isinstance(mine, bool):
            setattr(into, f.name, mine + theirs)


def _region_statuses(targets: Mapping[str, Any]) -> GaugeMetricFamily:
    """`brownout_target_region_status{provider,model,region,status}`: each region's own status
    of a target probed from several regions (monitor.detect.regions), 1 for its word."""
    family = GaugeMetricFamily(
        "brownout_target_region_status",
        "1 for the status word one region sees for the target (targets probed from several "
        "regions), else 0.",
        labels=["provider", "model", "region", "status"],
    )
    for target, ts in sorted(targets.items()):
        provider, _, model = target.partition("/")
        for region, word_now in sorted(dict(ts.details.get("by_region") or {}).items()):
            for word in _STATUSES:
                family.add_metric([provider, model, str(region), word], float(word_now == word))
    return family


def _le(bound: float) -> str:
    return repr(float(bound))


def registry_for(collector: StoreCollector) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(collector)
    return registry
