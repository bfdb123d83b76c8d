"""`api:` — the HTTP API's settings (read by `monitor.api`).

api:
  public: [badges, status, feed]   # served without the API token

`public` names the surfaces anyone may read without `BROWNOUT_API_TOKEN`, under the status
page's public-mode rules (statuses, uptime, figures and incidents; never answers, error texts,
costs, prices or keys): `badges` (`/badge/…`), `status` (`/public/status.json`) and `feed`
(`/public/incidents.atom`, `.rss`, and per provider). Every other path keeps needing the token.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from monitor.config.schema import Strict

PublicSurface = Literal["badges", "status", "feed"]
PUBLIC_SURFACES: tuple[PublicSurface, ...] = ("badges", "status", "feed")


class ApiConfig(Strict):
    # Surfaces served without the bearer token (see the module docstring).
    public: list[PublicSurface] = Field(default_factory=list)

    @field_validator("public")
    @classmethod
    def _once(cls, value: list[PublicSurface]) -> list[PublicSurface]:
        twice = sorted({s for s in value if value.count(s) > 1})
        if twice:
            raise ValueError(f"listed more than once: {', '.join(twice)}")
        return value
