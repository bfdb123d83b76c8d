"""Whether and where to export: the `otel:` section over the standard `OTEL_*` variables.

On as soon as an endpoint is known (`otel.endpoint`, `OTEL_EXPORTER_OTLP_METRICS_ENDPOINT` or
`OTEL_EXPORTER_OTLP_ENDPOINT`), or with `otel.enabled: true` (the SDK's default endpoint, a
collector on localhost:4318); off with `otel.enabled: false` or `OTEL_SDK_DISABLED=true`.
What the section leaves out the SDK reads from the environment itself (headers, timeout,
interval, service name, resource attributes, temporality, compression, certificates).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

from monitor.config.otel import OtelConfig
from monitor.telemetry.conventions import latest_opted_in

METRICS_PATH = "v1/metrics"
DEFAULT_ENDPOINT = "http://localhost:4318"


@dataclass(frozen=True, slots=True)
class ExportSettings:
    """How to export. None fields are left to the SDK, which reads the `OTEL_*` variables.

    `metrics_url`: the full OTLP/HTTP metrics URL when the config names the endpoint; `shown`:
    where the metrics go, for log lines (scheme, host, port and path only: no user info, no
    query); `latest`: emit the latest experimental GenAI names instead of the default ones."""

    shown: str
    latest: bool
    metrics_url: str | None = None
    headers: dict[str, str] | None = None
    timeout_s: float | None = None
    interval_s: float | None = None
    resource: dict[str, str] = field(default_factory=dict)


def export_settings(otel: OtelConfig, env: Mapping[str, str]) -> ExportSettings | None:
    """The settings to export with, or None when the export is off (see the module docstring)."""
    if otel.enabled is False or env.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return None
    metrics_env = env.get("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "").strip()
    base_env = env.get("OTEL_EXPORTER_OTLP_ENDPOINT", "").strip()
    if otel.enabled is None and not (otel.endpoint or metrics_env or base_env):
        return None
    metrics_url = _metrics_url(otel.endpoint) if otel.endpoint else None
    if metrics_url is not None:
        shown = metrics_url
    elif metrics_env:
        shown = metrics_env
    else:
        shown = _metrics_url(base_env or DEFAULT_ENDPOINT)
    resource = dict(otel.resource_attributes)
    if otel.service_name:
        resource["service.name"] = otel.service_name
    elif not _names_service(env):
        resource.setdefault("service.name", "brownout")
    return ExportSettings(
        shown=_without_secrets(shown),
        latest=(
            otel.gen_ai_latest_experimental
            if otel.gen_ai_latest_experimental is not None
            else latest_opted_in(env)
        ),
        metrics_url=metrics_url,
        headers=dict(otel.headers) if otel.headers else None,
        timeout_s=otel.timeout,
        interval_s=otel.interval,
        resource=resource,
    )


def _metrics_url(base: str) -> str:
    """The signal URL for a base endpoint, as the SDK builds it from `OTEL_EXPORTER_OTLP_ENDPOINT`."""
    parts = urlsplit(base)
    path = parts.path.rstrip("/") + "/" + METRICS_PATH
    return urlunsplit((parts.scheme, parts.netloc, path, parts.query, parts.fragment))


def _names_service(env: Mapping[str, str]) -> bool:
    if env.get("OTEL_SERVICE_NAME", "").strip():
        return True
    pairs = env.get("OTEL_RESOURCE_ATTRIBUTES", "").split(",")
    return any(p.split("=", 1)[0].strip() == "service.name" for p in pairs)


def _without_secrets(url: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    netloc = f"{host}:{port}" if port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))
