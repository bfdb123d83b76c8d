"""`otel:` — exporting every probe as OpenTelemetry GenAI client metrics over OTLP/HTTP
(`monitor.telemetry`, docs/integrations.md).

The export is on as soon as the standard `OTEL_EXPORTER_OTLP_ENDPOINT` (or
`OTEL_EXPORTER_OTLP_METRICS_ENDPOINT`) is set, tuned by the other standard `OTEL_*` variables;
this section does the same from the config file, and what it sets wins over the environment.

otel:
  enabled: true                        # default: on when an endpoint is set here or in the env
  endpoint: http://collector:4318      # the OTLP/HTTP base URL; /v1/metrics is appended
  headers: {Authorization: "Basic ${LANGFUSE_AUTH}"}   # secrets: never logged or exported
  timeout: 10s                         # one export, retries included
  interval: 60s                        # how often metrics are exported
  service_name: brownout
  resource_attributes: {deployment.environment.name: prod}
  gen_ai_latest_experimental: false    # default: OTEL_SEMCONV_STABILITY_OPT_IN decides
"""

from __future__ import annotations

from urllib.parse import urlsplit

from pydantic import Field, field_validator

from monitor.config.schema import Duration, Strict


class OtelConfig(Strict):
    enabled: bool | None = None
    endpoint: str | None = None
    headers: dict[str, str] = Field(default_factory=dict)
    timeout: Duration | None = Field(default=None, gt=0)
    interval: Duration | None = Field(default=None, gt=0)
    service_name: str | None = Field(default=None, min_length=1)
    resource_attributes: dict[str, str] = Field(default_factory=dict)
    gen_ai_latest_experimental: bool | None = None

    @field_validator("endpoint")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an http:// or https:// URL (the OTLP/HTTP endpoint)")
        return value
