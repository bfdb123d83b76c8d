"""`families:` — groups of equivalent models across providers, for the transfer switch
(`monitor.route`).

    families:
      fast-small: [openai/gpt-4o-mini, anthropic/claude-haiku-4-5, gemini/gemini-2.5-flash]

A member is a target name, `PROVIDER/MODEL`; the model part may itself hold `/`
(`openrouter/meta-llama/llama-3.3-70b-instruct`).
"""

from __future__ import annotations

from collections.abc import Iterable

Families = dict[str, list[str]]


def family_problems(
    families: Families, targets: Iterable[str], skipped: Iterable[str] = ()
) -> list[str]:
    """One message per family member that names no configured target (for `brownout check`).

    Members are checked against `targets` (the names of `config.targets()`). Members of the
    `skipped` providers (skipped for an unset key, or disabled) are not problems: one config
    serves environments with different keys. The caller adds `FILE:LINE:`.
    """
    known = set(targets)
    absent = set(skipped)
    problems = []
    for family, members in families.items():
        if not members:
            problems.append(f"families.{family}: a family needs at least one target")
        for member in members:
            if "/" not in member:
                problems.append(f"families.{family}: {member!r} is not PROVIDER/MODEL")
            elif member not in known and member.partition("/")[0] not in absent:
                problems.append(f"families.{family}: {member!r} is not a configured target")
    return problems
