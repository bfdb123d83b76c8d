"""The fleet's state in one line, as a status page says it.

    "All providers operational"
    "Intelligence brownout: 2 of 5 providers degraded"
    "Anthropic down since 10:42"

A provider's status is the worst of its targets that have fresh data (`unknown` only when none
has). Several providers in trouble at once is an *intelligence brownout*.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from monitor.detect.types import Status, TargetStatus

COLOURS = {
    Status.OPERATIONAL: "#1f9d55",
    Status.DEGRADED: "#d97706",
    Status.DOWN: "#dc2626",
    Status.UNKNOWN: "#6b7280",
}
NAMES = {"openai": "OpenAI", "openrouter": "OpenRouter", "xai": "xAI"}


@dataclass(frozen=True, slots=True)
class Banner:
    text: str
    status: Status
    providers: dict[str, Status] = field(default_factory=dict)

    @property
    def colour(self) -> str:
        return COLOURS[self.status]


def display_name(provider: str) -> str:
    return NAMES.get(provider, provider[:1].upper() + provider[1:])


def provider_statuses(statuses: Mapping[str, TargetStatus]) -> dict[str, tuple[Status, datetime]]:
    """provider -> (worst status of its targets with data, since when it has been so)."""
    by_provider: dict[str, list[TargetStatus]] = defaultdict(list)
    for name, status in statuses.items():
        by_provider[name.partition("/")[0]].append(status)
    out = {}
    for provider, members in by_provider.items():
        known = [m for m in members if m.status is not Status.UNKNOWN] or members
        worst = max(known, key=lambda m: m.status.severity).status
        since = min(m.since for m in known if m.status is worst)
        out[provider] = (worst, since)
    return out


def banner(statuses: Mapping[str, TargetStatus], now: datetime) -> Banner:
    """The banner for the fleet's `statuses` (target -> status) at `now`."""
    providers = provider_statuses(statuses)
    words = {p: s for p, (s, _) in providers.items()}
    total = len(providers)
    down = sorted(p for p, s in words.items() if s is Status.DOWN)
    degraded = sorted(p for p, s in words.items() if s is Status.DEGRADED)
    unknown = sorted(p for p, s in words.items() if s is Status.UNKNOWN)
    if not providers:
        return Banner("No targets configured yet", Status.UNKNOWN, words)
    if down:
        if len(down) == 1:
            text = f"{display_name(down[0])} down since {_clock(providers[down[0]][1], now)}"
        else:
            text = f"Outage: {len(down)} of {total} providers down ({_names(down)})"
        if degraded:
            text += f"; {len(degraded)} more degraded"
        return Banner(text, Status.DOWN, words)
    if len(degraded) >= 2:
        text = f"Intelligence brownout: {len(degraded)} of {total} providers degraded"
        return Banner(text, Status.DEGRADED, words)
    if degraded:
        provider = degraded[0]
        reasons = sorted(
            {r for n, s in statuses.items() if n.partition("/")[0] == provider for r in s.reasons}
        )
        text = f"{display_name(provider)} degraded since {_clock(providers[provider][1], now)}"
        if reasons:
            text += f" ({', '.join(reasons)})"
        return Banner(text, Status.DEGRADED, words)
    if len(unknown) == total:
        return Banner("No fresh data from any provider", Status.UNKNOWN, words)
    if unknown:
        text = f"All reporting providers operational; {_names(unknown)} without fresh data"
        return Banner(text, Status.OPERATIONAL, words)
    return Banner("All providers operational", Status.OPERATIONAL, words)


def _names(providers: list[str]) -> str:
    return ", ".join(display_name(p) for p in providers)


def _clock(ts: datetime, now: datetime) -> str:
    """`10:42` today (UTC), else `Nov 27 10:42`."""
    ts = ts.astimezone(UTC)
    if ts.date() == now.astimezone(UTC).date():
        return ts.strftime("%H:%M")
    return ts.strftime("%b %d %H:%M")
