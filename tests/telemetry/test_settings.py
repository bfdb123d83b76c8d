"""When the export is on and where it goes: the `otel:` section over the standard OTEL_* variables."""

from __future__ import annotations

from typing import Any

import pytest

from monitor.config.otel import OtelConfig
from monitor.telemetry.settings import export_settings

ENDPOINT = {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}


@pytest.mark.parametrize(
    ("section", "env", "on"),
    [
        ({}, {}, False),
        ({}, ENDPOINT, True),
        ({}, {"OTEL_EXPORTER_OTLP_METRICS_ENDPOINT": "http://c:4318/v1/metrics"}, True),
        ({"endpoint": "http://collector:4318"}, {}, True),
        ({"enabled": True}, {}, True),
        ({"enabled": False}, ENDPOINT, False),
        ({}, {**ENDPOINT, "OTEL_SDK_DISABLED": "true"}, False),
    ],
)
def test_the_export_is_on_exactly_when_an_endpoint_is_known_or_it_is_enabled(
    section: dict[str, Any], env: dict[str, str], on: bool
) -> None:
    assert (export_settings(OtelConfig(**section), env) is not None) is on


@pytest.mark.parametrize(
    ("section", "env", "shown"),
    [
        ({}, ENDPOINT, "http://collector:4318/v1/metrics"),
        (
            {},
            {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318/"},
            "http://collector:4318/v1/metrics",
        ),
        ({"enabled": True}, {}, "http://localhost:4318/v1/metrics"),
        (
            {"endpoint": "https://user:fake-pass@cloud.example/api/public/otel?key=fake"},
            {},
            "https://cloud.example/api/public/otel/v1/metrics",
        ),
    ],
)
def test_where_the_metrics_go_is_shown_without_credentials(
    section: dict[str, Any], env: dict[str, str], shown: str
) -> None:
    settings = export_settings(OtelConfig(**section), env)
    assert settings is not None and settings.shown == shown


def test_the_section_names_the_full_metrics_url_and_leaves_the_rest_to_the_sdk() -> None:
    section = OtelConfig(endpoint="http://collector:4318/", interval="15s", timeout="5s")
    settings = export_settings(section, {})
    assert settings is not None
    assert settings.metrics_url == "http://collector:4318/v1/metrics"
    assert (settings.interval_s, settings.timeout_s, settings.headers) == (15.0, 5.0, None)
    bare = export_settings(OtelConfig(), ENDPOINT)
    assert bare is not None and bare.metrics_url is None and bare.interval_s is None


@pytest.mark.parametrize(
    ("section", "env", "latest"),
    [
        ({}, {}, False),
        ({}, {"OTEL_SEMCONV_STABILITY_OPT_IN": "gen_ai_latest_experimental"}, True),
        ({}, {"OTEL_SEMCONV_STABILITY_OPT_IN": "http/dup, gen_ai_latest_experimental"}, True),
        ({}, {"OTEL_SEMCONV_STABILITY_OPT_IN": "http"}, False),
        (
            {"gen_ai_latest_experimental": False},
            {"OTEL_SEMCONV_STABILITY_OPT_IN": "gen_ai_latest_experimental"},
            False,
        ),
        ({"gen_ai_latest_experimental": True}, {}, True),
    ],
)
def test_the_latest_experimental_names_are_opted_into_as_the_conventions_say(
    section: dict[str, Any], env: dict[str, str], latest: bool
) -> None:
    settings = export_settings(OtelConfig(enabled=True, **section), env)
    assert settings is not None and settings.latest is latest


@pytest.mark.parametrize(
    ("section", "env", "name"),
    [
        ({}, {}, "brownout"),
        ({"service_name": "probes-eu"}, {"OTEL_SERVICE_NAME": "x"}, "probes-eu"),
        ({}, {"OTEL_SERVICE_NAME": "from-env"}, None),
        ({}, {"OTEL_RESOURCE_ATTRIBUTES": "a=b,service.name=from-env"}, None),
    ],
)
def test_the_service_is_named_brownout_unless_someone_names_it(
    section: dict[str, Any], env: dict[str, str], name: str | None
) -> None:
    settings = export_settings(OtelConfig(enabled=True, **section), env)
    assert settings is not None and settings.resource.get("service.name") == name
