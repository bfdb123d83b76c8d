"""Each target's canaries grouped by cadence: the rounds the scheduler runs, the cost counts and
detection's staleness and thresholds read.

    for round in config.rounds_for(target):
        round.every, round.canaries, round.burst      # 60.0, [arithmetic, count], 1

Canaries without `every:` run at the target's interval; canaries of one cadence form one round,
run one after the other. A burst canary is a round of its own: `burst` copies at once, once per
`every`, at a random time within it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from monitor.config.schema import CanaryConfig


@dataclass(frozen=True, slots=True)
class Round:
    """Canaries run together every `every` seconds; `burst` probes of each at once (1: one)."""

    every: float
    canaries: tuple[CanaryConfig, ...]
    burst: int = 1

    @property
    def probes(self) -> int:
        """Probes sent each time the round runs."""
        return len(self.canaries) * self.burst


def rounds(canaries: Sequence[CanaryConfig], interval: float) -> list[Round]:
    """`canaries` (those of one target) grouped into rounds, fastest first; canaries without
    `every:` run at `interval`."""
    plain: dict[float, list[CanaryConfig]] = {}
    bursts: list[Round] = []
    for canary in canaries:
        every = canary.every if canary.every is not None else interval
        if canary.burst:
            bursts.append(Round(every, (canary,), canary.burst))
        else:
            plain.setdefault(every, []).append(canary)
    out = [Round(every, tuple(group)) for every, group in plain.items()] + bursts
    return sorted(out, key=lambda r: (r.burst > 1, r.every))


def fastest(rounds_: Sequence[Round]) -> Round | None:
    """The round that reports most often (bursts only when there is nothing else): the one
    staleness is judged on."""
    plain = [r for r in rounds_ if r.burst == 1] or list(rounds_)
    return min(plain, key=lambda r: r.every) if plain else None


def probes_per_interval(rounds_: Sequence[Round], interval: float) -> float:
    """Probes sent on average per `interval` seconds over all rounds (bursts included): the
    load detection's false-alarm allowance is shared by."""
    return sum(r.probes * interval / r.every for r in rounds_)
