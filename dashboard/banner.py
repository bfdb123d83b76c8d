"""The fleet's state in one line, as a status page says it.

    "All providers operational"
    "Intelligence brownout: 2 of 5 providers degraded"
    "Anthropic down since 10:42"

A provider's word is Statuspage's (`monitor.read.now.provider_now`): down only when all its
targets with data are, a partial outage when some are. Several providers in trouble at once is
an *intelligence brownout*.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from monitor.detect.types import Status, TargetStatus
from monitor.read.now import (
    DEGRADED_PERFORMANCE,
    MAJOR_OUTAGE,
    NO_DATA,
    PARTIAL_OUTAGE,
    MonitorNow,
    ProviderNow,
    providers_now,
)

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
    words: dict[str, str] = field(default_factory=dict)  # provider -> Statuspage word

    @property
    def colour(self) -> str:
        return COLOURS[self.status]


def display_name(provider: str) -> str:
    return NAMES.get(provider, provider[:1].upper() + provider[1:])


def provider_statuses(statuses: Mapping[str, TargetStatus]) -> dict[str, tuple[Status, datetime]]:
    """provider -> (the target status its word stands for, since when), by `provider_now`."""
    return {
        p: (item.worst, item.since or datetime.min.replace(tzinfo=UTC))
        for p, item in providers_now(statuses).items()
    }


def banner(
    statuses: Mapping[str, TargetStatus],
    now: datetime,
    monitor: MonitorNow | None = None,
    brownout_providers: int = 2,
) -> Banner:
    """The banner for the fleet's `statuses` (target -> status) at `now`. A provider is down only
    when every target of it with data is (`major_outage`); some down is a partial outage. With
    `monitor` not reporting, the banner says so first: the gap is the monitor's, not the
    providers'. `brownout_providers` is `detection.fleet.providers`."""
    providers = providers_now(statuses)
    words = {p: item.worst for p, item in providers.items()}
    statuspage = {p: item.status for p, item in providers.items()}
    total = len(providers)
    if not providers:
        return Banner("No targets configured yet", Status.UNKNOWN, words, statuspage)
    if monitor is not None and not monitor.reporting:
        text = "The monitor is not reporting"
        if monitor.last_result is not None:
            text += f": no probe stored since {_clock(monitor.last_result, now)}"
        return Banner(
            text + "; statuses below are the last known", Status.UNKNOWN, words, statuspage
        )

    def named(word: str) -> list[str]:
        return sorted(p for p, item in providers.items() if item.status == word)

    down, partial = named(MAJOR_OUTAGE), named(PARTIAL_OUTAGE)
    degraded, unknown = named(DEGRADED_PERFORMANCE), named(NO_DATA)
    if down or partial:
        if len(down) == 1 and not partial:
            text = f"{display_name(down[0])} down since {_clock(_since(providers, down[0]), now)}"
        elif len(down) > 1:
            text = f"Outage: {len(down)} of {total} providers down ({_names(down)})"
        else:
            first = partial[0]
            c = providers[first].counts
            known = sum(n for word, n in c.items() if word != Status.UNKNOWN.value)
            text = (
                f"{display_name(first)} partial outage since "
                f"{_clock(_since(providers, first), now)} ({c['down']} of {known} models down)"
            )
        more_partial = partial[1:] if not down else partial
        if more_partial:
            text += f"; {len(more_partial)} more with a partial outage"
        if degraded:
            text += f"; {len(degraded)} more degraded"
        return Banner(text, Status.DOWN, words, statuspage)
    if len(degraded) >= brownout_providers:
        text = f"Intelligence brownout: {len(degraded)} of {total} providers degraded"
        return Banner(text, Status.DEGRADED, words, statuspage)
    if degraded:
        text = "; ".join(_degraded(statuses, providers, p, now) for p in degraded)
        return Banner(text, Status.DEGRADED, words, statuspage)
    if len(unknown) == total:
        return Banner("No fresh data from any provider", Status.UNKNOWN, words, statuspage)
    if unknown:
        text = f"All reporting providers operational; {_names(unknown)} without fresh data"
        return Banner(text, Status.OPERATIONAL, words, statuspage)
    return Banner("All providers operational", Status.OPERATIONAL, words, statuspage)


def _since(providers: Mapping[str, ProviderNow], provider: str) -> datetime:
    return providers[provider].since or datetime.min.replace(tzinfo=UTC)


def _degraded(
    statuses: Mapping[str, TargetStatus],
    providers: Mapping[str, ProviderNow],
    provider: str,
    now: datetime,
) -> str:
    reasons = sorted(
        {
            r
            for n, s in statuses.items()
            if n.partition("/")[0] == provider and s.status is Status.DEGRADED
            for r in s.reasons
        }
    )
    text = f"{display_name(provider)} degraded since {_clock(_since(providers, provider), now)}"
    return text + (f" ({', '.join(reasons)})" if reasons else "")


def _names(providers: list[str]) -> str:
    return ", ".join(display_name(p) for p in providers)


def _clock(ts: datetime, now: datetime) -> str:
    """`10:42` today (UTC), else `Nov 27 10:42`."""
    ts = ts.astimezone(UTC)
    if ts.date() == now.astimezone(UTC).date():
        return ts.strftime("%H:%M")
    return ts.strftime("%b %d %H:%M")
