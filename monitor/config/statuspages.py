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

        gemini:
          url: https://status.cloud.google.com/incidents.json
          components: ["Vertex Gemini API"]
        openrouter:
          url: https://status.example.com/proxy/status.example.com   # an incident.io widget
          format: incidentio

A page is an Atlassian Statuspage `…/api/v2/summary.json` (brownout also reads the sibling
`incidents.json`, so incidents posted and resolved between two polls are not missed), an
incident.io widget API, Google Cloud's `incidents.json` or an Instatus `…/summary.json`; `format`
(default `auto`: told apart by the body) names it (`monitor.statuspages.formats`). Empty (the
default) means no polling.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from monitor.config.schema import Duration, Strict


class StatusPage(Strict):
    """One provider's public status page."""

    url: str
    format: Literal["auto", "statuspage", "incidentio", "google_cloud", "instatus"] = "auto"
    providers: list[str] = Field(default_factory=list)
    components: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _url(self) -> StatusPage:
        if not re.match(r"^https?://[^\s/]+(/\S*)?$", self.url):
            raise ValueError(f"url must be an http(s) URL, got {self.url!r}")
        if self.format != "incidentio" and not self.url.endswith(".json"):
            raise ValueError(
                f"url must be an http(s) URL of a page's JSON (…/summary.json, incidents.json),"
                f" got {self.url!r}; an incident.io widget URL needs format: incidentio"
            )
        return self


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

    def pages_by_provider(self) -> dict[str, list[str]]:
        """Each provider that some page speaks for, with those pages' names."""
        out: dict[str, list[str]] = {}
        for name, page in self.pages.items():
            for provider in page.providers:
                out.setdefault(provider, []).append(name)
        return out

    def pages_for(self, provider: str) -> list[str]:
        """The names of the pages that speak for `provider`."""
        return [name for name, page in self.pages.items() if provider in page.providers]
