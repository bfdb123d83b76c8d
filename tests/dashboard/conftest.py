"""A seeded status page: a config file and a SQLite database with three days of simulated
history (the demo's scripted brownouts, detection run over them) and, at the end, an outage of
OpenRouter that is still going on."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from monitor.config import Config, load_config
from monitor.demo.backfill import Episode, backfill, batched, generate
from monitor.result import utcnow
from monitor.store import Store, open_store, results

KEY = "sk-test-dashboard-0123456789abcdef"  # a fake key, to prove the page never shows one
DOWN = "openrouter/meta-llama/llama-3.3-70b-instruct"

CONFIG = """\
storage:
  url: "sqlite:///{db}"
providers:
  openai:
    kind: openai
    base_url: http://127.0.0.1:9/v1
    api_key: {key}
    models: [gpt-4o-mini]
    price: {{gpt-4o-mini: {{input: 0.15, output: 0.60}}}}
  anthropic:
    kind: anthropic
    base_url: http://127.0.0.1:9
    api_key: sk-ant-test-not-a-real-key
    models: [claude-haiku-4-5]
  gemini:
    kind: gemini
    base_url: http://127.0.0.1:9
    api_key: test-gemini-not-a-real-key
    models: [gemini-2.5-flash]
  openrouter:
    kind: openai
    base_url: http://127.0.0.1:9/v1
    api_key: sk-or-test-not-a-real-key
    models: [meta-llama/llama-3.3-70b-instruct]
    slo: {{availability: 99.9%}}
canaries:
  - name: arithmetic
    prompt: "What is 17 * 23? Reply with the number only."
    expect: {{equals: "391"}}
dashboard:
  public: {public}
  refresh: 60s
"""


@dataclass
class Seeded:
    config_path: Path
    config: Config
    store: Store
    now: datetime

    def public_config(self) -> Path:
        """The same database behind a config in public mode."""
        path = self.config_path.with_name("public.yaml")
        text = self.config_path.read_text().replace("public: false", "public: true")
        path.write_text(text)
        return path


def write_config(folder: Path, db: Path, public: bool = False) -> Path:
    path = folder / "probes.yaml"
    path.write_text(CONFIG.format(db=db, key=KEY, public=str(public).lower()))
    return path


def seed(folder: Path) -> Seeded:
    db = folder / "brownout.db"
    path = write_config(folder, db)
    config = load_config(str(path), env={})
    store = open_store(config.storage.url)
    now = utcnow()
    start_of_outage = now - timedelta(minutes=30)
    backfill(store, config, start_of_outage, days=3)
    outage = [Episode(DOWN, start_of_outage, now + timedelta(hours=1), "outage")]
    targets = [t.name for t in config.targets()]
    from monitor.pipeline.detection import DetectionService

    spaced = config.model_copy(
        update={"schedule": config.schedule.model_copy(update={"interval": 60.0})}
    )
    detection = DetectionService(store, spaced, clock=lambda: now)
    detection.restore()
    for batch in batched(generate(targets, start_of_outage, now, episodes=outage, seed=9), 40):
        results.record(store, batch)
        detection.observe(batch)
    return Seeded(path, config, store, now)


@pytest.fixture(scope="session")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Seeded:
    """Seeded once for the whole session: the page only reads it."""
    return seed(tmp_path_factory.mktemp("dashboard"))
