"""The OpenAPI document: valid, served, and true of the live responses (schemathesis)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from openapi_spec_validator import validate
from schemathesis.checks import positive_data_acceptance
from starlette.applications import Starlette

from monitor.api.handlers import openapi_document
from monitor.api.server import build_app
from monitor.config import Config
from monitor.config.schema import SloConfig
from monitor.config.statuspages import StatusPagesConfig
from monitor.detect.types import IncidentRecord, Status, TargetStatus
from monitor.result import utcnow
from monitor.statuspages.model import OfficialComponent, OfficialIncident
from monitor.store import Store
from monitor.store.detection import save_detection
from monitor.store.statuspages import save_poll
from tests.factories import TARGETS, Seed


def test_the_openapi_document_is_valid() -> None:
    validate(openapi_document())  # type: ignore[arg-type]


def test_the_server_serves_its_openapi_document(api: str) -> None:
    assert httpx.get(f"{api}/openapi.json").json() == openapi_document()
    assert httpx.get(f"{api}/openapi.yaml").text.startswith("openapi: 3.1")


def test_every_route_is_documented_and_every_documented_path_is_routed(
    store: Store, config: Config
) -> None:
    app = build_app(store, config, token="")

    routed = {route.path.replace(":path}", "}") for route in app.routes}  # type: ignore[attr-defined]

    assert routed == set(openapi_document()["paths"])


@pytest.fixture
def live_schema(
    store: Store, config: Config, seed: Seed, serve_app: Callable[[Starlette], str]
) -> schemathesis.schemas.BaseSchema:
    """The document, pointed at the app served on loopback over a store with every status."""
    seed(TARGETS[0], ["ok"] * 5)
    seed(TARGETS[1], ["overloaded"] * 5)
    seed(TARGETS[2], ["ok", "timeout", "ok", "wrong_answer", "ok"])
    seen = utcnow() - timedelta(hours=1)
    save_detection(
        store,
        incidents=[
            IncidentRecord(TARGETS[1], seen, Status.DOWN, reasons=["errors"]),
            IncidentRecord(
                TARGETS[0], seen, Status.DEGRADED, seen + timedelta(minutes=9), ["latency"]
            ),
        ],
        statuses=[
            TargetStatus(TARGETS[1], Status.DOWN, seen, ["errors"], {"errors": {"ratio": 1.0}})
        ],
    )
    posted = OfficialIncident(
        "anthropic", "p1", "Errors", "investigating", "major", seen + timedelta(minutes=5)
    )
    save_poll(
        store,
        "anthropic",
        [OfficialComponent("anthropic", "c1", "API", "major_outage", seen)],
        [posted],
        seen,
    )
    # The first target's provider has an SLO, so `slos` in the answers is checked too.
    provider = TARGETS[0].partition("/")[0]
    with_slo = config.providers[provider].model_copy(
        update={"slo": SloConfig.model_validate({"availability": "99.9%", "ttft_p95": "2s"})}
    )
    config = config.model_copy(
        update={
            "providers": {**config.providers, provider: with_slo},
            "statuspages": StatusPagesConfig.model_validate(
                {"pages": {"anthropic": "http://127.0.0.1:9/api/v2/summary.json"}}
            ),
        }
    )
    url = serve_app(build_app(store, config, token=""))
    schema = schemathesis.openapi.from_dict(openapi_document())
    schema.config.update(base_url=url)
    return schema


OPERATIONS = sorted(openapi_document()["paths"])


@pytest.mark.parametrize("path", OPERATIONS)
def test_live_responses_match_the_document(
    live_schema: schemathesis.schemas.BaseSchema, path: str
) -> None:
    operation = live_schema[path]["GET"]

    @given(case=operation.as_strategy())
    @settings(
        max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None
    )
    def check(case: schemathesis.Case) -> None:
        # A value the document allows can still be refused with 400 for a reason a schema
        # cannot state (until before since, a window over 400 days), so that check is off.
        case.call_and_validate(excluded_checks=[positive_data_acceptance])

    check()
