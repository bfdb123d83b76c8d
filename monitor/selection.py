"""Choosing targets and canaries from the command line (`--target openai/*`, `--canary arithmetic`)."""

from __future__ import annotations

from collections.abc import Sequence

from monitor.config import Config
from monitor.errors import UsageError
from monitor.target import Target, matches


def select_targets(config: Config, patterns: Sequence[str] | None) -> list[Target]:
    """Targets matching any pattern (a name, a provider, or a shell glob); all when none given.

    Raises UsageError naming a pattern that matches nothing, with the targets there are.
    """
    targets = config.targets()
    if not patterns:
        return targets
    chosen: list[Target] = []
    for pattern in patterns:
        matched = [t for t in targets if matches(pattern, t.name)]
        if not matched:
            known = ", ".join(t.name for t in targets) or "none are configured"
            raise UsageError(f"no target matches {pattern!r} (targets: {known})")
        chosen.extend(t for t in matched if t not in chosen)
    return chosen


def check_canaries(config: Config, names: Sequence[str] | None) -> list[str] | None:
    """The canary names asked for, after checking each exists; None means all."""
    if not names:
        return None
    known = {c.name for c in config.canaries}
    for name in names:
        if name not in known:
            raise UsageError(
                f"no canary named {name!r} (canaries: {', '.join(sorted(known)) or 'none'})"
            )
    return list(names)
