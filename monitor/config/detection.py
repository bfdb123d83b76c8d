"""`detection:` — how brownouts and outages are told from noise. Owned by monitor/detect."""

from __future__ import annotations

from monitor.config.schema import Strict


class DetectionConfig(Strict):
    """Detection settings; defaults suit probes every 30–60 s. Filled in by the detection issue."""
