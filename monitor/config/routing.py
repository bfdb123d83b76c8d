"""`families:` — groups of equivalent models across providers, for the transfer switch. Owned by monitor/api.

    families:
      fast-small: [openai/gpt-4o-mini, anthropic/claude-haiku-4-5, gemini/gemini-2.5-flash]
"""

from __future__ import annotations

Families = dict[str, list[str]]
