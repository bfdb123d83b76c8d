"""Replay labelled traces through `brownout replay`'s code path (JSONL file → `load_results` →
`replay`) and the naive rule side by side, and measure delays and false alarms."""

from __future__ import annotations

import math
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from bench.detection import traces as traces_module
from bench.detection.naive import naive
from bench.detection.scenarios import Kind
from bench.detection.traces import LONG_CANARY, START, Event, Trace, generate
from monitor.commands.replay import load_results
from monitor.config.detection import DetectionConfig
from monitor.detect.engine import replay
from monitor.detect.types import Status, Transition
from monitor.result import ProbeResult

BAD = (Status.DEGRADED, Status.DOWN)
# The reasons that name each kind of brownout (traces.py's Event kinds).
REASONS: dict[str, set[str]] = {
    "errors": {"errors"},
    "outage": {"errors"},
    "flapping": {"errors"},
    "rate_limit": {"rate_limit"},
    "quality": {"quality"},
    "tool_calls": {"tool_calls"},
    "model": {"model_change"},
    "weights": {"model_change"},
    "swap": {"model_change"},
    "latency": {"latency", "ttft", "throughput"},
    "ttft": {"ttft", "latency"},
    "throughput": {"throughput"},
    "long_latency": {"latency", "ttft", "throughput"},
}
MONTH_PROBES = 30 * 24 * 60
TIERS = {LONG_CANARY: "long"}  # the long-prompt canary's timings have their own baselines
SEASONAL = DetectionConfig()  # the defaults: `seasonal: auto`
FLAT = DetectionConfig(seasonal="off")  # one flat baseline whatever the hour (the code before)


def minute_of(ts: datetime) -> int:
    """The minute of a trace a probe belongs to (probes are at i minutes ± 2 s from START, a
    long prompt's 20 s after the short one's): the trace's index for one probe a minute."""
    return int((ts - START).total_seconds() + 30) // 60


def detect(results: list[ProbeResult], config: DetectionConfig = SEASONAL) -> list[Transition]:
    """`brownout replay`'s detection of `results`, with the long prompts in their own tier."""
    return replay(results, config, tiers=TIERS)


@dataclass
class Delays:
    """Detection of one kind by one detector over the replicas."""

    delays: list[int] = field(default_factory=list)
    missed: int = 0
    early: int = 0  # already alarmed when the brownout began (a false alarm carried over)
    first: dict[str, int] = field(default_factory=dict)  # "status: reasons" of the first alarm
    transitions: list[int] = field(default_factory=list)  # during the brownout + 2 hours
    # Per replica: the share of probes from detection to the end of the brownout whose status
    # is the expected one (down for an outage, degraded or down for flapping, else degraded).
    right: list[float] = field(default_factory=list)
    # Per detected replica: True when the status never went back to operational between the
    # detection and the end of the brownout (the brownout stayed one incident).
    whole: list[bool] = field(default_factory=list)
    # Per detected replica that stayed one incident and returned to operational within the
    # trace: probes from the last one of the brownout to the return (1 = the very next probe).
    ends: list[int] = field(default_factory=list)

    @property
    def end_mean(self) -> float:
        return statistics.fmean(self.ends) if self.ends else math.nan

    @property
    def end_p90(self) -> float:
        if not self.ends:
            return math.nan
        ordered = sorted(self.ends)
        return float(ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))])

    @property
    def runs(self) -> int:
        return len(self.delays) + self.missed + self.early

    @property
    def mean(self) -> float:
        return statistics.fmean(self.delays) if self.delays else math.nan

    @property
    def p90(self) -> float:
        if not self.delays:
            return math.nan
        ordered = sorted(self.delays)
        return float(ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))])


@dataclass
class Row:
    kind: Kind
    ours: Delays
    naive: Delays
    flat: Delays | None = None  # the same traces with `seasonal: off`


@dataclass
class Healthy:
    target_months: float
    ours: int
    naive: int
    ours_reasons: dict[str, int]
    results: int
    seconds: float  # CPU time replaying (ours) only

    @property
    def ours_rate(self) -> float:
        return self.ours / self.target_months

    @property
    def naive_rate(self) -> float:
        return self.naive / self.target_months


def via_file(results: list[ProbeResult], folder: Path) -> list[ProbeResult]:
    """Write `results` as `brownout export --format jsonl` would, and read them back as
    `brownout replay --input` does."""
    path = folder / "trace.jsonl"
    with path.open("w", encoding="utf-8") as out:
        for r in results:
            out.write(r.to_json() + "\n")
    return load_results(str(path))


TAIL = 240  # healthy probes after each brownout, to see its end


def run_kind(kind: Kind, replicas: int, warmup: int, length: int, seed: int) -> Row:
    """Each replica: `warmup` healthy probes (the kind's own if it says), the brownout, `TAIL`
    healthy ones; replayed with the defaults (`seasonal: auto`), with `seasonal: off`, and by
    the naive rule, all on the same traces."""
    traces = []
    length = kind.length or length
    warmup = kind.warmup or warmup
    healthy = traces_module.Healthy(diurnal=kind.diurnal) if kind.diurnal is not None else None
    for r in range(kind.replicas or replicas):
        event = Event(kind.effect, warmup, length, kind.value)
        name = f"bench/{kind.effect}-{length}-{r}"
        phase = None
        if kind.at_peak is not None:  # the peak of the day `at_peak` minutes into the brownout
            phase = math.pi / 2 - 2 * math.pi * (warmup + kind.at_peak) / 1440
        traces.append(
            generate(
                name,
                warmup + length + TAIL,
                seed=seed + 1000 * r,
                events=[event],
                healthy=healthy,
                long_every=kind.long_every,
                phase=phase,
            )
        )
    merged = sorted((x for t in traces for x in t.results), key=lambda x: x.ts)
    with tempfile.TemporaryDirectory() as folder:
        results = via_file(merged, Path(folder))
    ours, flat, base = detect(results), detect(results, FLAT), naive(results)
    return Row(kind, _delays(traces, ours), _delays(traces, base), _delays(traces, flat))


def _delays(traces: list[Trace], transitions: list[Transition]) -> Delays:
    out = Delays()
    by_target: dict[str, list[Transition]] = {}
    for t in transitions:
        by_target.setdefault(t.target, []).append(t)
    for trace in traces:
        event = trace.events[0]
        index = {r.ts: minute_of(r.ts) for r in trace.results}
        begin = START + timedelta(minutes=event.start, seconds=-5)
        end = START + timedelta(minutes=event.start + event.length - 1, seconds=25)
        mine = by_target.get(trace.target, [])
        before = [t for t in mine if t.ts < begin]
        if before and before[-1].new in BAD:
            out.early += 1
            continue
        hits = [t for t in mine if begin <= t.ts <= end and t.new in BAD]
        horizon = START + timedelta(minutes=event.start + event.length + 120, seconds=25)
        after = [t for t in mine if begin <= t.ts <= horizon]
        out.transitions.append(len(after))  # during the brownout and 2 hours after it
        if not hits:
            out.missed += 1
            continue
        out.delays.append(index[hits[0].ts] - event.start + 1)
        # One incident counts from the first alarm that names the brownout's own reason: a
        # false alarm of another signal that happens to fall inside it is not its detection.
        own = REASONS.get(event.kind, set())
        named = next((t for t in hits if own & set(t.reasons)), hits[0])
        during = [t for t in mine if named.ts < t.ts <= end]
        whole = not any(t.new is Status.OPERATIONAL for t in during)
        out.whole.append(whole)
        back = [t for t in mine if t.ts > end and t.new is Status.OPERATIONAL and t.ts in index]
        if whole and back:
            out.ends.append(index[back[0].ts] - (event.start + event.length - 1))
        out.right.append(_right_share(trace, mine, index, index[hits[0].ts]))
        label = f"{hits[0].new.value}: {', '.join(hits[0].reasons)}"
        tiers = sorted({str(d["tier"]) for d in hits[0].details.values() if "tier" in d})
        if tiers:
            label += f" (tier {', '.join(tiers)})"
        out.first[label] = out.first.get(label, 0) + 1
    return out


def _right_share(
    trace: Trace, transitions: list[Transition], index: dict[datetime, int], detected: int
) -> float:
    event = trace.events[0]
    expected = {
        "outage": {Status.DOWN},
        "flapping": {Status.DEGRADED, Status.DOWN},
    }.get(event.kind, {Status.DEGRADED})
    changes = sorted((index[t.ts], t.new) for t in transitions if t.ts in index)
    status, right, total, k = Status.OPERATIONAL, 0, 0, 0
    for i in range(event.start + event.length):
        while k < len(changes) and changes[k][0] <= i:
            status = changes[k][1]
            k += 1
        if i >= detected:
            total += 1
            right += status in expected
    return right / total if total else 0.0


def run_healthy(
    targets: int,
    weeks: int,
    seed: int,
    warmup: int,
    profile: traces_module.Healthy | None = None,
    tools: bool = False,
    config: DetectionConfig = SEASONAL,
    long_every: int = 0,
) -> Healthy:
    """False alarms over healthy traces (of `profile`: the default noise unless given; `tools`:
    of a tool canary, 2 % of its calls failing; `long_every`: with a long prompt every that
    many minutes), detected under `config`."""
    n = weeks * 7 * 24 * 60
    ours = base = total = 0
    seconds = 0.0
    reasons: dict[str, int] = {}
    for k in range(targets):
        name = f"bench/healthy-{'tools-' if tools else ''}{k}"
        trace = generate(
            name, n, seed=seed + 7919 * k, healthy=profile, tools=tools, long_every=long_every
        )
        with tempfile.TemporaryDirectory() as folder:
            results = via_file(trace.results, Path(folder))
        start = time.process_time()  # CPU time: the machine may be shared
        transitions = detect(results, config)
        seconds += time.process_time() - start
        after = START + timedelta(minutes=warmup, seconds=-5)
        for t in transitions:
            if t.ts >= after and t.new in BAD and t.old not in BAD:
                ours += 1
                key = ", ".join(t.reasons)
                reasons[key] = reasons.get(key, 0) + 1
        base += sum(1 for t in naive(results) if t.ts >= after and t.new in BAD)
        total += len(results)
    months = targets * (n - warmup) / MONTH_PROBES
    return Healthy(months, ours, base, reasons, total, seconds)
