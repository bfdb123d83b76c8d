"""Signals on timing figures (`latency`, `ttft`, `throughput`) against the target's own baseline.

The baseline is the last `window` healthy samples, in log space: a slowdown "x times" is a shift
in log space whatever the target's usual speed. Its median and spread (interquartile range /
1.349) size the shift the CUSUM looks for: d = ln(ratio) / spread, in spreads.

Each new sample becomes a *rank score*: its mid-rank r among the n baseline values, mapped through
the inverse normal CDF, z = Φ⁻¹((r + ½) / (n + 1)). Whatever the shape of the healthy
distribution (latencies are skewed and heavy-tailed, even in log space), healthy scores are
standard normal, so the Gaussian CUSUM's false-alarm rate holds; and a sample beyond every
baseline value scores about 3.2 (n = 720), so one freak probe cannot raise an alarm alone. The
per-sample log-likelihood ratio is d·z - d²/2. A sample beyond every baseline value is scored
on the baseline's own scale too, z = (x - median) / spread, if that is higher, capped so that
one sample adds at most a third of the threshold: against a tight baseline (a flat server, a
fast simulator) the rank score alone could never reach d/2, and a target 15 times slower would
never be called slow. An optional absolute limit (`max_ms`, `min_per_s`) applies to the median
of the last five samples.

**Priors.** Until its own baseline holds `min_samples` healthy samples, a target is judged
against a *prior*: the baseline of the same model on another target (`prior`, supplied by the
detector), looking for a shift of `PRIOR_SLACK` times `ratio` (providers of one model differ
somewhat). So a target that is slow from its first probe is not learned as normal when a peer
knows better. Without a prior the first samples are the baseline (a monitor started in the middle
of a brownout learns it; restarts replay the stored history, so only a first start is blind).
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Callable
from datetime import datetime
from statistics import median
from typing import Any

from monitor.config.detection import MetricConfig, ThroughputConfig
from monitor.detect.rates import QUARANTINE
from monitor.detect.seasonal import FLAT, Seasonal, hour_of
from monitor.detect.signal import Signal, rounded
from monitor.detect.stats import Cusum, RollingWindow
from monitor.detect.types import Reason, Status
from monitor.result import ProbeResult

RECENT = 5
PRIOR_SLACK = 2.0  # against another target's baseline, look for a shift this much larger
Prior = Callable[[Reason], "tuple[str, MetricSignal] | None"]


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
        leave: float = 8.0,
        seasonal: bool = False,
    ) -> None:
        self.reason = reason
        self.cfg = cfg
        self.tier = "short"  # the workload tier whose results it watches (monitor.detect.target)
        self.extract = extract
        self.sign = -1.0 if lower_is_worse else 1.0
        self.base = RollingWindow(cfg.window)
        self.cusum = Cusum(threshold, cfg.clear or leave)
        # Arrays of doubles, not deques of floats: a deque takes ~600 bytes however short.
        self.recent = array("d")  # the last RECENT values
        self._pending = array("d")  # log value, epoch seconds, log value, … (in quarantine)
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
        self._center, self._spread = 0.0, 1.0  # of the baseline, as of the last refresh
        # The baseline of the same model elsewhere, while this one is too short (see module).
        self.prior: Prior | None = None
        self._peer: tuple[str, MetricSignal] | None = None
        self._prior_refused = False  # the prior was wrong for this target: learn alone
        # Hour-of-day / hour-of-week bins (monitor.detect.seasonal), unless `seasonal: off`.
        self.seasonal: Seasonal | None = Seasonal(cfg.window, self.base) if seasonal else None
        self._s_center, self._s_spread = 0.0, 1.0  # of the residuals, as of the last refresh
        self._s_d: float | None = None
        self._last_hour: int | None = None

    def observe(self, result: ProbeResult) -> None:
        # Written for speed (a week of one target is 10,080 calls per signal): locals, no calls
        # that can be avoided.
        value = self.extract(result)
        if not value or value <= 0 or not self._enabled or not math.isfinite(value):
            return
        x = self.sign * math.log(value)
        ts = result.ts.timestamp()
        recent = self.recent
        recent.append(value)
        if len(recent) > RECENT:
            del recent[0]
        self._last_hour = hour_of(ts)
        if self.limit is not None:
            self._check_absolute(self.limit)
        base = self.base
        if len(base) < self._min_samples:
            peer = self._prior()
            if peer is None:
                if not self.cusum.alarm:
                    self._add(x, ts)
                elif (  # alarmed against a prior now gone: hold, until it is the new normal
                    self._alarm_since is not None
                    and (result.ts - self._alarm_since).total_seconds() >= self._relearn_after
                ):
                    self._prior_refused = True
                    self.relearn()
                return
            d = self._log_ratio_prior / peer._spread
            z = peer.score(x, d, self.cusum.threshold)
        else:
            self._peer = None
            if self._adds >= 10 or self._d is None:
                self._refresh()
            seasonal = self.seasonal
            if seasonal is not None and seasonal.mode != FLAT and len(seasonal.resid) >= 30:
                # A cycle holds: the residual against its own hour, against healthy residuals.
                if self._s_d is None:
                    self._refresh()
                assert self._s_d is not None
                d = self._s_d
                xr = seasonal.residual(x, hour_of(ts))
                z = _score(
                    seasonal.resid, xr, self._s_center, self._s_spread, d, self.cusum.threshold
                )
            else:
                own = self._d
                assert own is not None
                d = own
                z = self.score(x, d, self.cusum.threshold)
        cusum = self.cusum
        if cusum.update(d * z - d * d / 2):
            self._alarm_since = result.ts if cusum.alarm else None
            del self._pending[:]
        since = self._alarm_since
        if since is not None and (result.ts - since).total_seconds() >= self._relearn_after:
            self._prior_refused = self._prior_refused or len(base) < self._min_samples
            self.relearn()  # a shift this long is the new normal
            return
        pending = self._pending
        pending.append(x)
        pending.append(ts)
        if len(pending) > 2 * QUARANTINE:
            old, at = pending[0], pending[1]
            del pending[:2]
            if not cusum.alarm and cusum.s < cusum.threshold / 2:
                self._add(old, at)

    def _add(self, x: float, ts: float) -> None:
        self.base.add(x)
        self._adds += 1
        if self.seasonal is not None:
            self.seasonal.add(x, ts)

    def _prior(self) -> MetricSignal | None:
        """The peer whose baseline stands in for this target's short one, if any."""
        if self.prior is None or self._prior_refused:
            return None
        found = self.prior(self.reason)
        self._peer = found
        return None if found is None else found[1]

    @property
    def _log_ratio_prior(self) -> float:
        return self._log_ratio * PRIOR_SLACK

    def score(self, x: float, d: float, threshold: float) -> float:
        """`x`'s normal score against this baseline: its rank score, or beyond every baseline
        value its distance from the median in spreads if higher, at most what lets one sample
        add a third of `threshold` to a CUSUM looking for a shift of `d` spreads."""
        return _score(self.base, x, self._center, self._spread, d, threshold)

    def _refresh(self) -> None:
        """Re-read the spread, after every 10 new healthy samples: it moves slowly, and reading
        it is a good part of the cost of a sample."""
        self._center, self._spread = self.baseline()
        self._d = self._log_ratio / self._spread
        self._adds = 0
        seasonal = self.seasonal
        if seasonal is not None and seasonal.mode != FLAT and len(seasonal.resid) >= 30:
            self._s_center, self._s_spread = _robust(seasonal.resid, self.cfg.min_spread)
            self._s_d = self._log_ratio / self._s_spread
        else:  # flat: the residuals are not computed; read afresh once a cycle holds
            self._s_d = None

    def baseline(self) -> tuple[float, float]:
        """(median, spread) of the healthy log values; the spread is floored at `min_spread`."""
        return _robust(self.base, self.cfg.min_spread)

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
        reference = self.base if len(self.base) >= self.cfg.min_samples else None
        if reference is None and self._peer is not None:
            reference = self._peer[1].base
            out["baseline_of"] = self._peer[0]  # judged against the same model elsewhere
        seasonal = self.seasonal
        hour = self._last_hour
        if (
            reference is self.base
            and seasonal is not None
            and seasonal.mode != FLAT
            and hour is not None
            and len(seasonal.resid) >= 30
        ):
            center = seasonal.center(hour)
            if center is not None:  # the baseline of the hour the last sample ran at
                base = math.exp(self.sign * (center + seasonal.resid.quantile(0.5)))
                out[f"baseline_{unit}"] = rounded(base)
                out["seasonal"] = seasonal.mode
                if now:
                    out["ratio"] = rounded(now / base if self.sign > 0 else base / now)
                return out
        if reference is not None and len(reference):
            base = math.exp(self.sign * reference.quantile(0.5))
            out[f"baseline_{unit}"] = rounded(base)
            if now:
                out["ratio"] = rounded(now / base if self.sign > 0 else base / now)
        if self.absolute:
            out["limit"] = self.limit
        return out

    @property
    def ready(self) -> bool:
        """Its baseline is long enough to stand as another target's prior."""
        return len(self.base) >= self._min_samples and not self.cusum.alarm

    def relearn(self) -> None:
        self.base.clear()
        if self.seasonal is not None:
            self.seasonal.clear()
            self._s_d = None
        self._d = None
        del self._pending[:]
        self.cusum.reset()
        self._alarm_since = None


def _score(
    window: RollingWindow, x: float, center: float, spread: float, d: float, threshold: float
) -> float:
    """`x`'s normal score against `window` (see `MetricSignal.score`)."""
    z = window.score(x)
    if window.beyond(x):
        far = (x - center) / spread
        if far > z:
            z = min(far, max(z, (threshold / 3 + d * d / 2) / d))
    return z


def _robust(window: RollingWindow, min_spread: float) -> tuple[float, float]:
    """(median, IQR / 1.349) of `window`, the spread floored at `min_spread`."""
    center = window.quantile(0.5)
    spread = (window.quantile(0.75) - window.quantile(0.25)) / 1.349
    return center, max(spread, min_spread)


def metric_signals(
    latency: MetricConfig,
    ttft: MetricConfig,
    throughput: ThroughputConfig,
    threshold: float,
    leave: float = 8.0,
    seasonal: bool = False,
) -> list[MetricSignal]:
    """The three timing signals; `leave` is the leaving threshold where `clear` is not set;
    `seasonal`: with hour-of-day / hour-of-week baselines where a cycle shows."""
    return [
        MetricSignal(
            Reason.LATENCY,
            latency,
            latency.threshold or threshold,
            _latency,
            leave=leave,
            seasonal=seasonal,
        ),
        MetricSignal(
            Reason.TTFT, ttft, ttft.threshold or threshold, _ttft, leave=leave, seasonal=seasonal
        ),
        MetricSignal(
            Reason.THROUGHPUT,
            throughput,
            throughput.threshold or threshold,
            _throughput,
            lower_is_worse=True,
            leave=leave,
            seasonal=seasonal,
        ),
    ]
