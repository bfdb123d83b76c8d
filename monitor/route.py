"""The transfer switch: which targets an application should call now, best first.

    answer = route(store, config, family="fast-small", need="fast")
    answer.targets[0].base_url, answer.targets[0].model      # call this one

Ranking, in order:
1. status tier: operational, then degraded, then unknown. Targets that are `down` are never
   ranked: they are listed apart in `answer.excluded`, so `targets[0]` is always callable.
   With tail `Preferences` (TTFT p90 at most, median tokens/s at least), within a tier those
   that meet them come first; those that miss them follow, never dropped.
2. within a tier, a score in 0..1: a weighted sum of the recent success rate, TTFT and latency
   medians (relative to the fastest candidate), the canary pass rate and the price (relative to
   the cheapest). `need` picks the weights. A figure with no data scores a neutral 0.5.
3. the score times `success ** PENALTY_POWER`: recent failures cost more than the weighted sum
   alone would charge. For `need="tools"` (an application that calls tools) the tool canaries'
   pass rate over the window is a part of the score (weight 0.45) and a second factor,
   `tool_pass ** PENALTY_POWER`, so a target whose tool calls fail ranks below one whose
   calls pass, whatever its text canaries say. A target failing a third of its calls keeps at most (2/3)^4 ≈ 0.20 of
   its score, below any healthy target's (whose success weight alone, ≥ 0.3 for every need,
   gives it more), so it never outranks a healthy one however fast or cheap it is.
The success rate is the share of answered probes (`ok` or `wrong_answer`) over the window, each
minute weighted by its age (half-life `HALF_LIFE_S`), so the last minutes count most. Every
figure comes from minute rollups (`monitor.store.rollups`), not raw results.
Each entry carries `why` (its figures in words) and `reason` (why it sits where it does).
`rank` is pure; `route` gathers the inputs from the store and config.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from monitor.config import Config
from monitor.detect.types import Status
from monitor.durations import format_duration
from monitor.errors import UsageError
from monitor.read.now import StatusNow, status_now, target_names
from monitor.result import format_ts, utcnow
from monitor.store import Store, results, rollups
from monitor.store.rollups import Agg, total
from monitor.target import Price

NEUTRAL = 0.5
PENALTY_POWER = 4
HALF_LIFE_S = 300.0  # a minute this old counts half as much as the current one
TIERS = {Status.OPERATIONAL: 0, Status.DEGRADED: 1, Status.UNKNOWN: 2}


@dataclass(frozen=True, slots=True)
class Weights:
    success: float
    ttft: float
    latency: float
    quality: float
    price: float
    tools: float = 0.0  # the tool canaries' pass rate (need=tools only)


NEEDS: dict[str, Weights] = {
    "balanced": Weights(success=0.35, ttft=0.2, latency=0.15, quality=0.2, price=0.1),
    "fast": Weights(success=0.3, ttft=0.35, latency=0.2, quality=0.1, price=0.05),
    "cheap": Weights(success=0.3, ttft=0.1, latency=0.05, quality=0.15, price=0.4),
    "reliable": Weights(success=0.55, ttft=0.1, latency=0.05, quality=0.25, price=0.05),
    "quality": Weights(success=0.3, ttft=0.1, latency=0.05, quality=0.5, price=0.05),
    "tools": Weights(success=0.3, ttft=0.1, latency=0.05, quality=0.05, price=0.05, tools=0.45),
}
_LABELS = {
    "success": "lower success rate",
    "ttft": "slower first token",
    "latency": "slower answers",
    "quality": "fails its canaries more",
    "price": "dearer",
    "tools": "fails its tool calls more",
}


@dataclass(slots=True)
class Candidate:
    """What the switch knows of one target: its status and its recent figures (None: no data).
    `success` is the recency-weighted share of answered probes (see the module docstring)."""

    target: str
    status: Status
    reasons: list[str] = field(default_factory=list)
    probes: int = 0
    success: float | None = None
    ttft_p50: float | None = None
    latency_p50: float | None = None
    pass_ratio: float | None = None
    ttft_p90: float | None = None
    tokens_per_s_p50: float | None = None
    price: Price | None = None
    kind: str | None = None
    base_url: str | None = None
    tool_probes: int = 0
    tool_pass: float | None = None  # the tool canaries' pass rate (`tool_check` ok)
    tool_failures: dict[str, int] = field(default_factory=dict)

    @property
    def provider(self) -> str:
        return self.target.partition("/")[0]

    @property
    def model(self) -> str:
        return self.target.partition("/")[2]

    @property
    def blended_price(self) -> float | None:
        """USD per million tokens, input and output averaged."""
        return (self.price.input + self.price.output) / 2 if self.price else None

    @property
    def penalty(self) -> float:
        """The factor recent failures leave of the score: `success ** PENALTY_POWER`."""
        return 1.0 if self.success is None else self.success**PENALTY_POWER

    @property
    def tool_penalty(self) -> float:
        """The factor failed tool calls leave of a `need=tools` score."""
        return 1.0 if self.tool_pass is None else self.tool_pass**PENALTY_POWER


def from_minutes(
    target: str, minutes: Sequence[Agg], now: datetime, half_life_s: float = HALF_LIFE_S
) -> dict[str, Any]:
    """A candidate's figures from its minute rollups: counted probes, the recency-weighted
    share answered, TTFT and latency medians (from the merged sketches) and the pass rate."""
    merged = total(minutes, target)
    weighted = answered = 0.0
    for agg in minutes:
        counted = agg.n - agg.count("cancelled")
        if counted <= 0:
            continue
        age = max(0.0, (now - agg.start).total_seconds() - 30.0)  # from the minute's middle
        weight = 0.5 ** (age / half_life_s)
        weighted += weight * counted
        answered += weight * (agg.count("ok") + agg.count("wrong_answer"))
    return {
        "probes": merged.n - merged.count("cancelled"),
        "success": answered / weighted if weighted else None,
        "ttft_p50": merged.percentile("ttft", 0.5),
        "latency_p50": merged.percentile("lat", 0.5),
        "pass_ratio": merged.quality_rate,
        "ttft_p90": merged.percentile("ttft", 0.9),
        "tokens_per_s_p50": merged.percentile("tps", 0.5),
    }


@dataclass(frozen=True, slots=True)
class Preferences:
    """Tail preferences, as OpenRouter's `preferred_max_latency` / `preferred_min_throughput`
    and LiteLLM's latency routing offer them: a target whose TTFT p90 is above
    `max_ttft_p90_ms`, or whose median tokens/s is below `min_tokens_per_s` (or that has no
    such figure in the window), ranks after those of its status that meet them. Never filters."""

    max_ttft_p90_ms: float | None = None
    min_tokens_per_s: float | None = None

    def __bool__(self) -> bool:
        return self.max_ttft_p90_ms is not None or self.min_tokens_per_s is not None

    def misses(self, c: Candidate) -> list[str]:
        """What `c` misses, in words ("TTFT p90 1830 ms > 800 ms"); empty when it meets all."""
        out = []
        limit = self.max_ttft_p90_ms
        if limit is not None:
            if c.ttft_p90 is None:
                out.append("no TTFT p90 in the window")
            elif c.ttft_p90 > limit:
                out.append(f"TTFT p90 {c.ttft_p90:.0f} ms > {limit:.0f} ms")
        floor = self.min_tokens_per_s
        if floor is not None:
            if c.tokens_per_s_p50 is None:
                out.append("no tokens/s in the window")
            elif c.tokens_per_s_p50 < floor:
                out.append(f"{c.tokens_per_s_p50:.1f} tokens/s (p50) < {floor:g}")
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"max_ttft_p90_ms": self.max_ttft_p90_ms, "min_tokens_per_s": self.min_tokens_per_s}


def from_tool_checks(words: dict[str, int]) -> dict[str, Any]:
    """A candidate's tool-call figures from its `tool_check` counts over the window."""
    probes = sum(words.values())
    return {
        "tool_probes": probes,
        "tool_pass": words.get("ok", 0) / probes if probes else None,
        "tool_failures": {k: n for k, n in words.items() if k != "ok"},
    }


@dataclass(slots=True)
class Entry:
    rank: int
    candidate: Candidate
    score: float
    parts: dict[str, float]
    why: list[str]
    reason: str = ""
    misses: list[str] | None = None  # None: no preferences asked

    def to_dict(self) -> dict[str, Any]:
        c = self.candidate
        return {
            "rank": self.rank,
            "target": c.target,
            "provider": c.provider,
            "model": c.model,
            "kind": c.kind,
            "base_url": c.base_url,
            "status": c.status.value,
            "reasons": list(c.reasons),
            "score": round(self.score, 4),
            "parts": {k: round(v, 4) for k, v in self.parts.items()},
            "figures": {
                "probes": c.probes,
                "success_ratio": None if c.success is None else round(c.success, 4),
                "ttft_p50_ms": c.ttft_p50,
                "latency_p50_ms": c.latency_p50,
                "canary_pass_ratio": c.pass_ratio,
                "ttft_p90_ms": c.ttft_p90,
                "tokens_per_s_p50": c.tokens_per_s_p50,
                "price_usd_per_mtok": c.blended_price,
                "penalty": round(c.penalty, 4),
                "tool_probes": c.tool_probes,
                "tool_call_pass_ratio": None if c.tool_pass is None else round(c.tool_pass, 4),
                "tool_call_failures": dict(c.tool_failures),
            },
            "why": list(self.why),
            "reason": self.reason,
            "preferences_met": None if self.misses is None else not self.misses,
            "misses": list(self.misses or []),
        }


@dataclass(slots=True)
class Answer:
    family: str | None
    need: str
    window_s: float
    generated_at: datetime
    targets: list[Entry]
    excluded: list[Entry]
    preferences: Preferences = field(default_factory=Preferences)

    def to_dict(self) -> dict[str, Any]:
        return {
            "family": self.family,
            "need": self.need,
            "window": format_duration(self.window_s),
            "generated_at": format_ts(self.generated_at),
            "preferences": self.preferences.to_dict(),
            "targets": [e.to_dict() for e in self.targets],
            "excluded": [e.to_dict() for e in self.excluded],
        }


def _relative(value: float | None, best: float | None) -> float:
    """best/value for "smaller is better" figures; neutral without data."""
    if value is None or best is None:
        return NEUTRAL
    return 1.0 if value <= 0 else min(1.0, best / value)


def _pct(x: float) -> str:
    return f"{x * 100:.0f}%" if x >= 0.995 or x <= 0.005 else f"{x * 100:.1f}%"


def rank(
    candidates: Sequence[Candidate],
    need: str = "balanced",
    window_s: float = 900,
    preferences: Preferences | None = None,
) -> tuple[list[Entry], list[Entry]]:
    """(ranked usable entries best first, excluded `down` entries). With `preferences`, within
    a status those that meet them rank first. Raises UsageError for an unknown `need`."""
    prefs = preferences or Preferences()
    if need not in NEEDS:
        raise UsageError(f"unknown need {need!r}; use one of {', '.join(NEEDS)}")
    weights = NEEDS[need]
    ttfts = [t for c in candidates if (t := c.ttft_p50) is not None]
    lats = [t for c in candidates if (t := c.latency_p50) is not None]
    prices = [p for c in candidates if (p := c.blended_price) is not None]
    best_ttft, best_lat = min(ttfts, default=None), min(lats, default=None)
    cheapest = min(prices, default=None)
    window = format_duration(window_s)
    entries = []
    for c in candidates:
        success, quality = c.success, c.pass_ratio
        parts = {
            "success": NEUTRAL if success is None else success,
            "ttft": _relative(c.ttft_p50, best_ttft),
            "latency": _relative(c.latency_p50, best_lat),
            "quality": NEUTRAL if quality is None else quality,
            "price": _relative(c.blended_price, cheapest),
        }
        factor = c.penalty
        if weights.tools:
            parts["tools"] = NEUTRAL if c.tool_pass is None else c.tool_pass
            factor *= c.tool_penalty
        score = sum(getattr(weights, k) * v for k, v in parts.items()) * factor
        why = [c.status.value + (f" ({', '.join(c.reasons)})" if c.reasons else "")]
        if c.probes and success is not None:
            why.append(
                f"{_pct(success)} of {c.probes} probes answered in the last {window} "
                "(recent minutes count most)"
            )
            if c.penalty < 0.995:
                why.append(f"recent failures: score × {c.penalty:.2f}")
        else:
            why.append(f"no probes in the last {window}")
        for label, value, best in (
            ("TTFT", c.ttft_p50, best_ttft),
            ("latency", c.latency_p50, best_lat),
        ):
            if value is not None and best is not None:
                versus = "fastest" if value <= best else f"{value / best:.1f}× the fastest"
                why.append(f"{label} p50 {value:.0f} ms ({versus})")
        if quality is not None:
            why.append(f"canary pass {_pct(quality)}")
        if weights.tools and c.tool_pass is not None:
            failed = ", ".join(f"{k} {n}" for k, n in sorted(c.tool_failures.items()))
            why.append(
                f"tool calls pass {_pct(c.tool_pass)} of {c.tool_probes}"
                + (f" ({failed})" if failed else "")
                + (f": score × {c.tool_penalty:.2f}" if c.tool_penalty < 0.995 else "")
            )
        elif weights.tools:
            why.append(f"no tool-call probes in the last {window}")
        if c.blended_price is not None and cheapest is not None:
            versus = (
                "cheapest"
                if c.blended_price <= cheapest
                else f"{c.blended_price / cheapest:.1f}× the cheapest"
            )
            why.append(f"${c.blended_price:.2f} per million tokens ({versus})")
        else:
            why.append("no price configured")
        misses = prefs.misses(c) if prefs else None
        if misses:
            why.append("misses the preferences: " + "; ".join(misses))
        entries.append(Entry(0, c, score, parts, why, misses=misses))
    usable = [e for e in entries if e.candidate.status in TIERS]
    excluded = [e for e in entries if e.candidate.status not in TIERS]
    usable.sort(
        key=lambda e: (
            TIERS[e.candidate.status],
            bool(e.misses),
            -e.score,
            e.candidate.target,
        )
    )
    for i, e in enumerate(usable):
        e.rank = i + 1
        e.reason = _reason(e, usable[i - 1] if i else None, need)
    for e in excluded:
        e.reason = "excluded: down"
    return usable, excluded


def _reason(entry: Entry, above: Entry | None, need: str) -> str:
    status = entry.candidate.status.value
    if above is None:
        return f"first: {status}, best score {entry.score:.2f} for need={need}"
    name = above.candidate.target
    if above.candidate.status is not entry.candidate.status:
        return f"below {name}: {status} ranks after {above.candidate.status.value}"
    if entry.misses and not above.misses:
        return f"below {name}: misses the preferences ({'; '.join(entry.misses)})"
    gaps = {k: above.parts[k] - entry.parts[k] for k in entry.parts}
    worst = max(gaps, key=lambda k: gaps[k])
    detail = f": {_LABELS[worst]}" if gaps[worst] > 0 else ""
    if entry.candidate.penalty < above.candidate.penalty - 0.005:
        detail = f": recent failures (score × {entry.candidate.penalty:.2f})"
    elif "tools" in entry.parts and (
        entry.candidate.tool_penalty < above.candidate.tool_penalty - 0.005
    ):
        detail = f": failed tool calls (score × {entry.candidate.tool_penalty:.2f})"
    return f"below {name}: score {entry.score:.2f} vs {above.score:.2f}{detail}"


def family_members(config: Config, family: str | None, known: Sequence[str]) -> list[str]:
    """The targets of `family` (config `families:`), or every known target without one.
    Raises UsageError for an unknown family."""
    if family is None:
        return list(known)
    if family not in config.families:
        names = ", ".join(sorted(config.families)) or "none configured"
        raise UsageError(f"unknown family {family!r} (families: {names})")
    return list(config.families[family])


def route(
    store: Store,
    config: Config,
    *,
    family: str | None = None,
    need: str = "balanced",
    window: timedelta = timedelta(minutes=15),
    now: datetime | None = None,
    members: Sequence[str] | None = None,
    preferences: Preferences | None = None,
    view: StatusNow | None = None,
) -> Answer:
    """Rank `family`'s targets (or all targets, or the given `members`) for use now. Raises
    UsageError for an unknown family or need. `view`: the statuses at `now` of every member,
    when the caller has read them already (the status page reads them for all targets); a
    target's status does not depend on which others are read with it."""
    now = now or utcnow()
    if members is None:
        members = family_members(config, family, target_names(store, config, now))
    members = list(members)
    if need not in NEEDS:
        raise UsageError(f"unknown need {need!r}; use one of {', '.join(NEEDS)}")
    if view is None or view.generated_at != now or any(m not in view.targets for m in members):
        view = status_now(store, config, now, members)
    minutes: dict[str, list[Agg]] = {}
    for agg in rollups.fetch(store, rollups.MINUTE, now - window, now, targets=members):
        minutes.setdefault(agg.target, []).append(agg)
    configured = {t.name: t for t in config.targets()}
    checks = results.tool_checks(store, now - window, now, members) if need == "tools" else {}
    candidates = []
    for name in members:
        status = view.targets.get(name)
        target = configured.get(name)
        candidates.append(
            Candidate(
                target=name,
                status=status.status if status else Status.UNKNOWN,
                reasons=list(status.reasons) if status else ["stale"],
                price=target.price if target else None,
                kind=target.kind if target else None,
                base_url=target.base_url if target else None,
                **from_minutes(name, minutes.get(name, []), now),
                **from_tool_checks(checks.get(name, {})),
            )
        )
    prefs = preferences or Preferences()
    usable, excluded = rank(candidates, need, window.total_seconds(), prefs)
    return Answer(family, need, window.total_seconds(), now, usable, excluded, prefs)


@dataclass(frozen=True, slots=True)
class Switch:
    """Where to send `target`'s traffic now: `to` is the best healthy (`operational`, fresh)
    other target of its families, or None when there is none; `families` are the families it
    is in (empty: none, so nothing is known to serve the same purpose)."""

    target: str
    to: str | None
    families: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"target": self.target, "to": self.to, "families": list(self.families)}


def families_of(config: Config, target: str) -> list[str]:
    """The families (config `families:`) that list `target`, in config order."""
    return [name for name, members in config.families.items() if target in members]


def switch_for(
    store: Store,
    config: Config,
    target: str,
    *,
    need: str = "balanced",
    window: timedelta = timedelta(minutes=15),
    now: datetime | None = None,
    answers: dict[tuple[str, ...], Answer] | None = None,
) -> Switch:
    """The transfer switch's answer for a target in trouble: the first `operational` target, other
    than `target`, when every member of its families is ranked together (`route`'s ranking).
    `answers` keeps the rankings already read, by members, so targets of the same families in
    one pass (a fleet-wide event) share one read."""
    families = families_of(config, target)
    members = tuple(dict.fromkeys(m for f in families for m in config.families[f]))
    if len(members) < 2:
        return Switch(target, None, tuple(families))
    answer = answers.get(members) if answers is not None else None
    if answer is None:
        answer = route(store, config, members=members, need=need, window=window, now=now)
        if answers is not None:
            answers[members] = answer
    best = next(
        (
            e.candidate.target
            for e in answer.targets
            if e.candidate.target != target and e.candidate.status is Status.OPERATIONAL
        ),
        None,
    )
    return Switch(target, best, tuple(families))
