"""`statuspages:` — the providers' own public status pages to poll (read by
`monitor.statuspages`).

    statuspages:
      interval: 5m
      pages:
        openai: https://status.openai.com/api/v2/summary.json
        anthropic:
          url: https://status.anthropic.com/api/v2/summary.json
          providers: [anthropic]           # brownout providers this page speaks for (default: its name)
          components: ["Claude API*"]      # only these components and the incidents that affect
                                           # them (shell patterns); default: all

A page is any Statuspage-style JSON (`…/api/v2/summary.json`); brownout also reads the sibling
`incidents.json` so incidents posted and resolved between two polls are not missed. Empty (the
default) means no polling.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import Field, field_validator

from monitor.config.schema import Duration, Strict


class StatusPage(Strict):
    """One provider's public status page."""

    url: str
    providers: list[str] = Field(default_factory=list)
    components: list[str] = Field(default_factory=list)

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not re.match(r"^https?://[^\s/]+/\S*\.json$", value):
            raise ValueError(f"url must be an http(s) URL of a summary.json, got {value!r}")
        return value


class StatusPagesConfig(Strict):
    """Polling of official Statuspage-style JSON, beside brownout's own view."""

    interval: Duration = 300.0
    timeout: Duration = 15.0
    # How far apart brownout's incident and the provider's may start and still be the same event.
    match_window: Duration = 3 * 3600.0
    pages: dict[str, StatusPage] = Field(default_factory=dict)

    @field_validator("pages", mode="before")
    @classmethod
    def _short_form(cls, value: Any) -> Any:
        """`name: URL` is short for `name: {url: URL, providers: [name]}`."""
        if not isinstance(value, dict):
            return value
        out = {}
        for name, page in value.items():
            page = {"url": page} if isinstance(page, str) else page
            if isinstance(page, dict) and not page.get("providers"):
                page = {**page, "providers": [name]}
            out[name] = page
        return out

    @field_validator("interval", "timeout")
    @classmethod
    def _positive(cls, value: float) -> float:
        if value <= 0:
            raise ValueError("must be greater than zero")
        return value

    def pages_for(self, provider: str) -> list[str]:
        """The names of the pages that speak for `provider`."""
        return [name for name, page in self.pages.items() if provider in page.providers]
