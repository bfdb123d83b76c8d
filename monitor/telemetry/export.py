"""Every probe as OpenTelemetry GenAI client metrics, exported over OTLP/HTTP.

    export = GenAiExport(config, store, settings)   # settings from export_settings(...)
    monitor = Monitor(config, store, client, sinks=[export, ...])
    ...
    export.close()                                  # the last export, bounded by its timeout

`GenAiExport` is a `monitor.runner.Sink`: the pipeline thread hands it each stored batch and it
records the batch into the SDK's in-memory aggregates, which costs microseconds and never waits
on the network. The SDK's `PeriodicExportingMetricReader` exports from a thread of its own, so
a slow, dead or refusing collector never slows or breaks probing. A failed export is logged
once, with the collector's reason, and again only when exports work again; the SDK's own log
line per failed export is dropped.

What is exported (docs/integrations.md has the table):

- per probe, the GenAI conventions' client metrics (`monitor.telemetry.conventions`: the default
  or the latest experimental names), with the conventions' attributes, `user_agent.synthetic.type
  = test` and brownout's `brownout.target`, `brownout.canary`, `brownout.region`;
- `brownout.probe.time_to_first_token`: brownout's own TTFT (to the first answer text), beside
  the conventions' time to first chunk (to the first event of the stream, whatever it holds);
- observed at each export from the store: `brownout.target.status` (1 for the target's status
  word, else 0), `brownout.canary.pass_rate` and `brownout.statuspage.lead_time`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.metrics import CallbackOptions, Observation
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import (
    MetricExporter,
    MetricExportResult,
    MetricsData,
    PeriodicExportingMetricReader,
)
from opentelemetry.sdk.resources import Resource

from monitor.config import Config
from monitor.detect.types import Status
from monitor.errors import StorageError
from monitor.read.leadtime import lead_times
from monitor.read.now import plain_rule_window, status_now
from monitor.result import Outcome, ProbeResult, utcnow
from monitor.secrets import Scrubber
from monitor.store import Store
from monitor.store.probe_stats import figures
from monitor.target import Target
from monitor.telemetry import conventions as gen_ai
from monitor.telemetry.settings import ExportSettings

log = logging.getLogger("brownout")

SDK_EXPORTER_LOGGER = "opentelemetry.exporter.otlp.proto.http.metric_exporter"
"""Where the SDK logs each failed export (and each retry); brownout logs the failure once."""
LEAD_TIME_WINDOW = timedelta(days=30)
"""`brownout.statuspage.lead_time` is the newest posted incident's lead within this window."""
STATUS_WORDS = [s.value for s in Status]
SDK_VERSION_OF_BROWNOUT = "0.1.0"


class GenAiExport:
    """The sink that records every probe and the meter provider that exports them."""

    def __init__(
        self,
        config: Config,
        store: Store,
        settings: ExportSettings,
        *,
        clock: Callable[[], datetime] = utcnow,
        exporter: MetricExporter | None = None,
    ) -> None:
        """`exporter` defaults to OTLP/HTTP as `settings` and the `OTEL_*` variables say."""
        self.config, self.store, self.settings, self.clock = config, store, settings, clock
        self.targets: dict[str, Target] = {t.name: t for t in config.targets()}
        scrubber = Scrubber(config.secrets())
        inner = exporter or OTLPMetricExporter(
            endpoint=settings.metrics_url,
            headers=settings.headers,
            timeout=settings.timeout_s,
        )
        self.exporter = ReportingExporter(inner, settings.shown, scrubber)
        self.reader = PeriodicExportingMetricReader(
            self.exporter,
            export_interval_millis=(
                settings.interval_s * 1000 if settings.interval_s is not None else None
            ),
        )
        resource = Resource.create(
            {"service.version": SDK_VERSION_OF_BROWNOUT, **settings.resource}
        )
        self.provider = MeterProvider(resource=resource, metric_readers=[self.reader])
        self._instruments(settings.latest)
        self._closed = False

    def _instruments(self, latest: bool) -> None:
        meter = self.provider.get_meter("brownout", SDK_VERSION_OF_BROWNOUT)
        names = gen_ai.LATEST if latest else gen_ai.LEGACY
        self.names = names
        times = gen_ai.DURATION_BUCKETS_S
        self.duration = meter.create_histogram(
            names.duration,
            unit="s",
            description="GenAI operation duration.",
            explicit_bucket_boundaries_advisory=times,
        )
        self.first_chunk = meter.create_histogram(
            names.time_to_first_chunk,
            unit="s",
            description="Time to receive the first chunk, from the request issued to the first "
            "chunk of the response stream.",
            explicit_bucket_boundaries_advisory=times,
        )
        self.per_chunk = meter.create_histogram(
            names.time_per_output_chunk,
            unit="s",
            description="Time per output chunk, for each chunk after the first: from the end of "
            "the previous chunk to the end of this one.",
            explicit_bucket_boundaries_advisory=times,
        )
        self.ttft = meter.create_histogram(
            "brownout.probe.time_to_first_token",
            unit="s",
            description="brownout's TTFT: from the request written to the first non-empty "
            "answer text (later than the first chunk when the stream opens with empty events).",
            explicit_bucket_boundaries_advisory=times,
        )
        tokens = gen_ai.TOKEN_BUCKETS
        if names.token_usage is not None:
            self.token_usage = meter.create_histogram(
                names.token_usage,
                unit="{token}",
                description="Number of input and output tokens used.",
                explicit_bucket_boundaries_advisory=tokens,
            )
        if names.input_tokens is not None and names.output_tokens is not None:
            self.input_counter = meter.create_counter(
                names.input_tokens,
                unit="{token}",
                description="The number of input (prompt) tokens used, including cached tokens.",
            )
            self.output_counter = meter.create_counter(
                names.output_tokens,
                unit="{token}",
                description="The number of output (completion) tokens used, including "
                "reasoning tokens.",
            )
        if names.operation_input_tokens is not None and names.operation_output_tokens is not None:
            self.input_histogram = meter.create_histogram(
                names.operation_input_tokens,
                unit="{token}",
                description="The number of input (prompt) tokens used per inference operation.",
                explicit_bucket_boundaries_advisory=tokens,
            )
            self.output_histogram = meter.create_histogram(
                names.operation_output_tokens,
                unit="{token}",
                description="The number of output (completion) tokens used per inference "
                "operation.",
                explicit_bucket_boundaries_advisory=tokens,
            )
        meter.create_observable_gauge(
            "brownout.target.status",
            callbacks=[self._guarded(self._statuses)],
            unit="1",
            description="1 for the target's current status word (brownout.status), else 0.",
        )
        meter.create_observable_gauge(
            "brownout.canary.pass_rate",
            callbacks=[self._guarded(self._pass_rates)],
            unit="1",
            description="Canary answers that passed their check over the recent window.",
        )
        meter.create_observable_gauge(
            "brownout.statuspage.lead_time",
            callbacks=[self._guarded(self._lead_times)],
            unit="s",
            description="How long before the provider's status page posted the target's newest "
            "incident brownout saw it (negative: the page was first).",
        )

    # -- per probe, in the pipeline thread --------------------------------------------------

    def on_results(self, batch: Sequence[ProbeResult]) -> None:
        for result in batch:
            if result.outcome is not Outcome.CANCELLED:  # no news about the provider
                self.record(result)

    def record(self, result: ProbeResult) -> None:
        """Record one probe (see the module docstring)."""
        common = gen_ai.attributes(result, self.targets.get(result.target))
        error = gen_ai.error_type(result.outcome)
        failed = {**common, "error.type": error} if error else common
        if result.duration_ms is not None:
            self.duration.record(
                result.duration_ms / 1000, {**failed, "brownout.outcome": result.outcome.value}
            )
        if result.first_chunk_ms is not None:
            self.first_chunk.record(result.first_chunk_ms / 1000, common)
        for gap in result.extra.get("chunk_gaps_s") or ():
            self.per_chunk.record(gap, common)
        if result.ttft_ms is not None:
            self.ttft.record(result.ttft_ms / 1000, common)
        self._tokens(result, common, failed)

    def _tokens(self, result: ProbeResult, common: dict[str, Any], failed: dict[str, Any]) -> None:
        # Estimated counts are not usage: the conventions want the provider's counts (or, in
        # the latest set, 0 under modality `unknown` when the reply held none).
        reported = not result.tokens_estimated
        counts = (
            ("input", result.input_tokens if reported else None),
            ("output", result.output_tokens if reported else None),
        )
        if self.names.token_usage is not None:
            for kind, value in counts:
                if value is not None:
                    self.token_usage.record(value, {**common, "gen_ai.token.type": kind})
            return
        for (_kind, value), counter, histogram in (
            (counts[0], self.input_counter, self.input_histogram),
            (counts[1], self.output_counter, self.output_histogram),
        ):
            modality = "text" if value is not None else "unknown"
            counter.add(value or 0, {**common, "gen_ai.token.modality": modality})
            histogram.record(value or 0, failed)

    # -- observed at each export, in the reader's thread ------------------------------------

    def _guarded(
        self, observe: Callable[[], Iterable[Observation]]
    ) -> Callable[[CallbackOptions], Iterable[Observation]]:
        """A gauge's callback that gives nothing while the database is away (said once)."""
        failing = threading.Event()

        def callback(_options: CallbackOptions) -> Iterable[Observation]:
            try:
                observed = list(observe())
            except StorageError as exc:
                if not failing.is_set():
                    failing.set()
                    log.warning("OpenTelemetry gauges skipped while the database fails: %s", exc)
                return []
            failing.clear()
            return observed

        return callback

    def _gauge_attributes(self, target: str) -> dict[str, str | int]:
        return gen_ai.target_attributes(target, self.targets.get(target))

    def _statuses(self) -> Iterable[Observation]:
        view = status_now(self.store, self.config, self.clock())
        for target, ts in sorted(view.targets.items()):
            attributes = self._gauge_attributes(target)
            for word in STATUS_WORDS:
                yield Observation(
                    float(ts.status.value == word), {**attributes, "brownout.status": word}
                )

    def _pass_rates(self) -> Iterable[Observation]:
        now = self.clock()
        for target, f in sorted(
            figures(self.store, now - plain_rule_window(self.config), now).items()
        ):
            if f.pass_ratio is not None:
                yield Observation(f.pass_ratio, self._gauge_attributes(target))

    def _lead_times(self) -> Iterable[Observation]:
        if not self.config.statuspages.pages:
            return
        now = self.clock()
        newest: dict[str, tuple[datetime, float]] = {}
        for incident, lead in lead_times(
            self.store, self.config, now - LEAD_TIME_WINDOW, None
        ).incidents:
            if lead is None or lead.lead_s is None:
                continue
            if incident.target not in newest or incident.start > newest[incident.target][0]:
                newest[incident.target] = (incident.start, lead.lead_s)
        for target, (_start, lead_s) in sorted(newest.items()):
            yield Observation(lead_s, self._gauge_attributes(target))

    # -- lifetime --------------------------------------------------------------------------

    def flush(self, timeout_s: float = 10.0) -> bool:
        """Export what is recorded now; False when the export failed or timed out."""
        done = self.provider.force_flush(timeout_millis=timeout_s * 1000)
        return bool(done) and not self.exporter.failing

    def close(self, timeout_s: float = 10.0) -> None:
        """The last export, then stop the reader's thread. Bounded by the exporter's timeout."""
        if self._closed:
            return
        self._closed = True
        self.provider.shutdown(timeout_millis=timeout_s * 1000)


class ReportingExporter(MetricExporter):
    """An exporter around another that says when exports start failing, once, and when they
    work again, instead of the SDK's line per failed export."""

    def __init__(self, inner: MetricExporter, shown: str, scrubber: Scrubber) -> None:
        super().__init__(
            preferred_temporality=inner._preferred_temporality,
            preferred_aggregation=inner._preferred_aggregation,
        )
        self.inner, self.shown, self.scrubber = inner, shown, scrubber
        self.failing = False
        self.failures = 0
        self.exports = 0
        self._reason = _LastWords.install()

    def export(
        self, metrics_data: MetricsData, timeout_millis: float = 10_000, **kwargs: Any
    ) -> MetricExportResult:
        self._reason.clear()
        try:
            result = self.inner.export(metrics_data, timeout_millis=timeout_millis, **kwargs)
        except Exception as exc:  # an exporter bug must not stop the reader's thread
            self._reason.said = f"{type(exc).__name__}: {exc}"
            result = MetricExportResult.FAILURE
        self.exports += 1
        if result is MetricExportResult.SUCCESS:
            if self.failing:
                log.warning("OpenTelemetry export to %s works again", self.shown)
            self.failing = False
            return result
        self.failures += 1
        if not self.failing:
            why = self.scrubber.scrub(self._reason.said) or "no reason given"
            log.warning(
                "OpenTelemetry export to %s failed (%s); probing goes on, and this is said "
                "once until an export works again",
                self.shown,
                why,
            )
        self.failing = True
        return result

    def force_flush(self, timeout_millis: float = 10_000) -> bool:
        return bool(self.inner.force_flush(timeout_millis))

    def shutdown(self, timeout_millis: float = 30_000, **kwargs: Any) -> None:
        self.inner.shutdown(timeout_millis=timeout_millis, **kwargs)


class _LastWords(logging.Filter):
    """Keeps the SDK exporter's last log message (the collector's reason) and drops the line:
    brownout says it once, in its own words."""

    _installed: _LastWords | None = None
    _lock = threading.Lock()

    def __init__(self) -> None:
        super().__init__()
        self.said: str | None = None

    def clear(self) -> None:
        self.said = None

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.WARNING:
            self.said = record.getMessage()
            return False
        return True

    @classmethod
    def install(cls) -> _LastWords:
        with cls._lock:
            if cls._installed is None:
                cls._installed = cls()
                logging.getLogger(SDK_EXPORTER_LOGGER).addFilter(cls._installed)
            return cls._installed
