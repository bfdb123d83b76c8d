"""OpenTelemetry export: every probe as GenAI client metrics over OTLP/HTTP, plus brownout's
own status, pass rate and lead time (docs/integrations.md).

    export = start_export(config, store)     # None when off: nothing imported, nothing runs
    if export is not None:
        sinks.append(export)
    ...
    export.close()

`conventions` holds the semantic conventions as data, `settings` decides whether and where to
export, `export` records and exports. The SDK is imported only when the export is on.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING

from monitor.config import Config
from monitor.store import Store
from monitor.telemetry.settings import ExportSettings, export_settings

if TYPE_CHECKING:
    from monitor.telemetry.export import GenAiExport

__all__ = ["ExportSettings", "export_settings", "start_export"]


def start_export(
    config: Config, store: Store, env: Mapping[str, str] | None = None
) -> GenAiExport | None:
    """The export sink when the config or the environment turns the export on, else None."""
    settings = export_settings(config.otel, os.environ if env is None else env)
    if settings is None:
        return None
    from monitor.telemetry.export import GenAiExport

    return GenAiExport(config, store, settings)
