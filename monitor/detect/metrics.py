"""Signals on timing figures (`latency`, `ttft`, `throughput`) against the target's own baseline.

The baseline is the last `window` healthy samples, in log space: a slowdown "x times" is a shift
in log space whatever the target's usual speed. Its median and spread (interquartile range /
1.349) size the shift the CUSUM looks for: d = ln(ratio) / spread, in spreads.

Each new sample becomes a *rank score*: its mid-rank r among the n baseline values, mapped through
the inverse normal CDF, z = Φ⁻¹((r + ½) / (n + 1)). Whatever the shape of the healthy
distribution (latencies are skewed and heavy-tailed, even in log space), healthy scores are
standard normal, so the Gaussian CUSUM's false-alarm rate holds; and a sample beyond every
baseline value scores about 3.2 (n = 720), so one freak probe cannot raise an alarm alone. The
per-sample log-likelihood ratio is d·z - d²/2. An optional absolute limit (`max_ms`,
`min_per_s`) applies to the median of the last five samples.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from datetime import datetime
from statistics import median
from typing import Any

from monitor.config.detection import MetricConfig, ThroughputConfig
from monitor.detect.rates import QUARANTINE
from monitor.detect.signal import Signal, rounded
from monitor.detect.stats import Cusum, RollingWindow
from monitor.detect.types import Reason, Status
from monitor.result import ProbeResult

RECENT = 5


def _latency(r: ProbeResult) -> float | None:
    return r.latency_ms


def _ttft(r: ProbeResult) -> float | None:
    return r.ttft_ms


def _throughput(r: ProbeResult) -> float | None:
    return r.tokens_per_s


class MetricSignal(Signal):
    """One timing figure; for throughput the log is negated so that "worse" is always "higher"."""

    def __init__(
        self,
        reason: Reason,
        cfg: MetricConfig | ThroughputConfig,
        threshold: float,
        extract: Callable[[ProbeResult], float | None],
        *,
        lower_is_worse: bool = False,
    ) -> None:
        self.reason = reason
        self.cfg = cfg
        self.extract = extract
        self.sign = -1.0 if lower_is_worse else 1.0
        self.base = RollingWindow(cfg.window)
        self.cusum = Cusum(threshold, cfg.clear)
        self.recent: deque[float] = deque(maxlen=RECENT)
        self._pending: deque[float] = deque()
        self._alarm_since: datetime | None = None
        self.absolute = False
        self.limit: float | None = (
            cfg.min_per_s if isinstance(cfg, ThroughputConfig) else cfg.max_ms
        )
        # Plain copies of the settings read for every sample (pydantic attribute access is slow).
        self._min_samples = cfg.min_samples
        self._enabled = cfg.enabled
        self._relearn_after = cfg.relearn_after
        self._log_ratio = math.log(cfg.ratio)
        self._d: float | None = None  # the shift looked for, in spreads
        self._adds = 0

    def observe(self, result: ProbeResult) -> None:
        # Written for speed (a week of one target is 10,080 calls per signal): locals, no calls
        # that can be avoided.
        value = self.extract(result)
        if not value or value <= 0 or not self._enabled or not math.isfinite(value):
            return
        x = self.sign * math.log(value)
        self.recent.append(value)
        if self.limit is not None:
            self._check_absolute(self.limit)
        base = self.base
        if len(base) < self._min_samples:
            self._add(x)
            return
        if self._adds >= 10 or self._d is None:
            self._refresh()
        cusum = self.cusum
        d = self._d
        assert d is not None
        if cusum.update(d * base.score(x) - d * d / 2):
            self._alarm_since = result.ts if cusum.alarm else None
            self._pending.clear()
        since = self._alarm_since
        if since is not None and (result.ts - since).total_seconds() >= self._relearn_after:
            self.relearn()  # a shift this long is the new normal
            return
        pending = self._pending
        pending.append(x)
        if len(pending) > QUARANTINE:
            old = pending.popleft()
            if not cusum.alarm and cusum.s < cusum.threshold / 2:
                self._add(old)

    def _add(self, x: float) -> None:
        self.base.add(x)
        self._adds += 1

    def _refresh(self) -> None:
        """Re-read the spread, after every 10 new healthy samples: it moves slowly, and reading
        it is a good part of the cost of a sample."""
        self._d = self._log_ratio / self.baseline()[1]
        self._adds = 0

    def baseline(self) -> tuple[float, float]:
        """(median, spread) of the healthy log values; the spread is floored at `min_spread`."""
        center = self.base.quantile(0.5)
        spread = (self.base.quantile(0.75) - self.base.quantile(0.25)) / 1.349
        return center, max(spread, self.cfg.min_spread)

    def _check_absolute(self, limit: float) -> None:
        if len(self.recent) < 3:
            self.absolute = False
            return
        now = median(self.recent)
        # 10 % hysteresis: entered above the limit, left only clearly below it.
        margin = 0.9 if self.absolute else 1.0
        if self.sign > 0:
            self.absolute = now > limit * margin
        else:
            self.absolute = now < limit / margin

    @property
    def level(self) -> Status | None:
        return Status.DEGRADED if self.cusum.alarm or self.absolute else None

    def details(self) -> dict[str, Any]:
        unit = "per_s" if self.sign < 0 else "ms"
        now = median(self.recent) if self.recent else None
        out: dict[str, Any] = {f"value_{unit}": rounded(now)}
        if len(self.base) >= self.cfg.min_samples:
            base = math.exp(self.sign * self.base.quantile(0.5))
            out[f"baseline_{unit}"] = rounded(base)
            if now:
                out["ratio"] = rounded(now / base if self.sign > 0 else base / now)
        if self.absolute:
            out["limit"] = self.limit
        return out

    def relearn(self) -> None:
        self.base.clear()
        self._d = None
        self._pending.clear()
        self.cusum.reset()
        self._alarm_since = None


def metric_signals(
    latency: MetricConfig, ttft: MetricConfig, throughput: ThroughputConfig, threshold: float
) -> list[MetricSignal]:
    return [
        MetricSignal(Reason.LATENCY, latency, latency.threshold or threshold, _latency),
        MetricSignal(Reason.TTFT, ttft, ttft.threshold or threshold, _ttft),
        MetricSignal(
            Reason.THROUGHPUT,
            throughput,
            throughput.threshold or threshold,
            _throughput,
            lower_is_worse=True,
        ),
    ]
