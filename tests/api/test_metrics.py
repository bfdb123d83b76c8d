"""`GET /metrics`: Prometheus text that parses, with the figures the store holds."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from monitor.api.metrics import StoreCollector, registry_for
from monitor.config import Config
from monitor.result import utcnow
from monitor.store import Store
from monitor.store import results as stored
from tests.factories import TARGETS, Seed, probe


def scrape(url: str) -> dict[str, list[Sample]]:
    response = httpx.get(f"{url}/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {f.name: f.samples for f in text_string_to_metric_families(response.text)}


def value(samples: list[Sample], name: str, **labels: str) -> float:
    found = [
        s.value
        for s in samples
        if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())
    ]
    assert len(found) == 1, (name, labels, found)
    return found[0]


def test_metrics_parse_and_count_probes_by_outcome(api: str, seed: Seed) -> None:
    seed("openai/gpt-4o-mini", ["ok", "ok", "ok", "rate_limited"], ago=5)
    seed(TARGETS[2], ["ok", "timeout"], ago=5)

    families = scrape(api)

    probes = families["brownout_probes"]
    assert (
        value(probes, "brownout_probes_total", provider="openai", model="gpt-4o-mini", outcome="ok")
        == 3
    )
    assert value(probes, "brownout_probes_total", provider="openai", outcome="rate_limited") == 1
    assert (
        value(
            probes,
            "brownout_probes_total",
            model="meta-llama/llama-3.3-70b-instruct",
            outcome="timeout",
        )
        == 1
    )
    cost = families["brownout_probe_cost_usd"]
    assert value(cost, "brownout_probe_cost_usd_total", model="gpt-4o-mini") == pytest.approx(3e-5)


def test_ttft_histogram_buckets_are_cumulative_seconds(api: str, store: Store) -> None:
    now = utcnow()
    ttfts = [80.0, 200.0, 200.0, 900.0, 4000.0]
    stored.record(
        store,
        [
            probe(now - timedelta(minutes=5 + i), "openai/gpt-4o-mini", ttft_ms=t)
            for i, t in enumerate(ttfts)
        ],
    )

    samples = scrape(api)["brownout_probe_ttft_seconds"]

    def bucket(le: str) -> float:
        return value(
            samples,
            "brownout_probe_ttft_seconds_bucket",
            provider="openai",
            model="gpt-4o-mini",
            le=le,
        )

    assert [bucket(le) for le in ("0.1", "0.25", "1.0", "5.0", "+Inf")] == [1, 3, 4, 5, 5]
    assert value(samples, "brownout_probe_ttft_seconds_count", model="gpt-4o-mini") == 5
    assert value(samples, "brownout_probe_ttft_seconds_sum", model="gpt-4o-mini") == pytest.approx(
        5.38
    )


def test_the_stream_clock_has_its_histograms_beside_the_ttft(api: str, store: Store) -> None:
    now = utcnow()
    streams = [(50.0, 250.0, 5), (100.0, 100.0, 1), (60.0, 96.0, 10)]  # first, last, chunks
    stored.record(
        store,
        [
            probe(
                now - timedelta(minutes=5 + i),
                "openai/gpt-4o-mini",
                first_chunk_ms=first,
                last_chunk_ms=last,
                chunks=chunks,
            )
            for i, (first, last, chunks) in enumerate(streams)
        ],
    )
    families = scrape(api)

    first = families["brownout_probe_time_to_first_chunk_seconds"]
    name = "brownout_probe_time_to_first_chunk_seconds"
    assert value(first, f"{name}_count", model="gpt-4o-mini") == 3
    assert value(first, f"{name}_sum", model="gpt-4o-mini") == pytest.approx(0.21)
    assert value(first, f"{name}_bucket", model="gpt-4o-mini", le="0.1") == 3

    per = families["brownout_probe_time_per_output_chunk_seconds"]
    name = "brownout_probe_time_per_output_chunk_seconds"
    # One observation per stream of two chunks or more: its mean gap, 50 ms and 4 ms.
    assert value(per, f"{name}_count", model="gpt-4o-mini") == 2
    assert value(per, f"{name}_sum", model="gpt-4o-mini") == pytest.approx(0.054)
    assert value(per, f"{name}_bucket", model="gpt-4o-mini", le="0.005") == 1
    assert value(per, f"{name}_bucket", model="gpt-4o-mini", le="0.05") == 2


def test_each_target_has_an_info_series_with_its_gen_ai_names(api: str) -> None:
    info = scrape(api)["brownout_target_info"]
    assert value(info, "brownout_target_info", provider="openai", model="gpt-4o-mini") == 1
    labels = next(s.labels for s in info if s.labels["model"] == "gpt-4o-mini")
    assert labels["gen_ai_provider_name"] == "openai"
    assert labels["gen_ai_request_model"] == "gpt-4o-mini"
    assert (labels["server_address"], labels["server_port"]) == ("127.0.0.1", "9")


def test_status_is_a_gauge_with_one_word_set(api: str, seed: Seed) -> None:
    seed("openai/gpt-4o-mini", ["ok"] * 4)
    seed("anthropic/claude-haiku-4-5", ["overloaded"] * 4)

    families = scrape(api)

    status = families["brownout_target_status"]
    assert value(status, "brownout_target_status", provider="anthropic", status="down") == 1
    assert value(status, "brownout_target_status", provider="anthropic", status="operational") == 0
    assert value(status, "brownout_target_status", provider="openai", status="operational") == 1
    assert value(families["brownout_fleet_status"], "brownout_fleet_status", status="down") == 1
    assert value(families["brownout_open_incidents"], "brownout_open_incidents") >= 1
    assert (
        value(
            families["brownout_canary_pass_ratio"], "brownout_canary_pass_ratio", provider="openai"
        )
        == 1
    )
    assert (
        value(
            families["brownout_tokens_per_second"], "brownout_tokens_per_second", provider="openai"
        )
        == 40
    )


def test_counters_only_grow_as_results_arrive_and_old_ones_are_deleted(
    store: Store, config: Config
) -> None:
    clock_now = [utcnow()]
    collector = StoreCollector(
        store, config, clock=lambda: clock_now[0], settle=timedelta(seconds=60)
    )
    registry = registry_for(collector)
    start = clock_now[0]
    stored.record(
        store, [probe(start - timedelta(minutes=m), "openai/gpt-4o-mini") for m in (2, 3, 4)]
    )

    def total() -> float:
        return (
            registry.get_sample_value(
                "brownout_probes_total",
                {
                    "provider": "openai",
                    "model": "gpt-4o-mini",
                    "region": "default",
                    "outcome": "ok",
                },
            )
            or 0.0
        )

    assert total() == 3
    # A result recorded late with a start time not yet settled is counted once it settles.
    stored.record(store, [probe(start - timedelta(seconds=30), "openai/gpt-4o-mini")])
    assert total() == 3
    clock_now[0] = start + timedelta(minutes=1)
    assert total() == 4
    # Retention deleting old rows does not make the counter go down.
    from sqlmodel import delete

    from monitor.store.tables import ProbeRow

    with store.session() as session:
        session.exec(delete(ProbeRow))  # type: ignore[call-overload]
    clock_now[0] = start + timedelta(minutes=2)
    assert total() == 4
