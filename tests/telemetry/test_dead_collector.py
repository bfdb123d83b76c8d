"""A collector that hangs, refuses or is not there never slows or breaks probing: the export
runs in the SDK reader's thread, and a failing export is logged once, not once per export."""

from __future__ import annotations

import asyncio
import logging
import socket

import httpx
import pytest

from monitor.config import Config
from monitor.result import Outcome
from monitor.runner import Monitor
from monitor.simulator import SimulatorHandle
from monitor.store import Store, results
from monitor.telemetry.export import SDK_EXPORTER_LOGGER, GenAiExport
from monitor.telemetry.settings import ExportSettings
from tests.factories import probe, sim_config
from tests.telemetry.conftest import Collector


def _settings(url: str, **kw: float) -> ExportSettings:
    return ExportSettings(shown=url, latest=False, metrics_url=url, **kw)  # type: ignore[arg-type]


def _failures(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if "OpenTelemetry export" in r.getMessage()]


async def test_a_hanging_collector_never_holds_up_a_probe(
    store: Store, simulator: SimulatorHandle, collector: Collector
) -> None:
    config = sim_config(simulator)
    collector.hold.clear()  # every export now waits for as long as the test likes
    export = GenAiExport(
        config, store, _settings(f"{collector.url}/v1/metrics", interval_s=0.05, timeout_s=60)
    )
    async with httpx.AsyncClient() as client:
        monitor = Monitor(config, store, client, sinks=[export])
        try:
            await monitor.run_once(config.targets())
            await asyncio.to_thread(collector.arrived.wait)  # the reader is stuck in a POST
            for _ in range(3):
                batch = await monitor.run_once(config.targets())
                assert [r.outcome for r in batch] == [Outcome.OK]
            assert collector.requests == []  # still held: nothing has been taken
            assert len(list(results.between(store))) == 4
        finally:
            await monitor.close()
            collector.hold.set()
            await asyncio.to_thread(export.close)
    assert collector.requests  # released, the export went through


def test_a_refusing_collector_is_logged_once_until_it_takes_metrics_again(
    store: Store,
    simulator: SimulatorHandle,
    collector: Collector,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    collector.status = 400  # not retryable: each export fails at once
    export = GenAiExport(
        sim_config(simulator), store, _settings(f"{collector.url}/v1/metrics", interval_s=3600)
    )
    try:
        for i in range(3):
            export.on_results([probe(target="sim/gpt-4o-mini", duration_ms=100.0 + i)])
            assert export.flush() is False
        said = _failures(caplog)
        assert len(said) == 1
        assert "failed" in said[0] and "400" in said[0]
        assert [r for r in caplog.records if r.name == SDK_EXPORTER_LOGGER] == []

        collector.status = 200
        assert export.flush() is True
        assert export.flush() is True
        assert _failures(caplog)[1:] == [
            f"OpenTelemetry export to {collector.url}/v1/metrics works again"
        ]
    finally:
        export.close()


def test_a_collector_that_is_not_there_fails_its_exports_quietly(
    store: Store, simulator: SimulatorHandle, caplog: pytest.LogCaptureFixture
) -> None:
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/v1/metrics"
    export = GenAiExport(
        sim_config(simulator), store, _settings(url, interval_s=3600, timeout_s=0.5)
    )
    try:
        export.on_results([probe(target="sim/gpt-4o-mini", duration_ms=100.0)])
        assert export.flush() is False
        assert export.flush() is False
        assert len(_failures(caplog)) == 1
        assert export.exporter.failures == 2
    finally:
        export.close(timeout_s=1)


def test_a_probe_config_for_the_export_is_validated_strictly() -> None:
    with pytest.raises(ValueError):
        Config.model_validate({"otel": {"endpont": "http://x:4318"}})
    with pytest.raises(ValueError):
        Config.model_validate({"otel": {"endpoint": "collector:4318"}})
