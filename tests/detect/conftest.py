"""Fixtures for detection tests: a seeded steady stream (`tests.factories.healthy_stream`)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from monitor.result import ProbeResult
from tests.factories import healthy_stream

Make = Callable[..., list[ProbeResult]]


@pytest.fixture
def make() -> Make:
    return healthy_stream
