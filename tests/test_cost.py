"""`brownout check --cost`: tokens and USD per target per day, estimated from the config and
measured from stored probes (against the simulator)."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.cli import main
from monitor.simulator import SimulatorHandle


def _config(tmp_path: Path, sim: SimulatorHandle) -> Path:
    path = tmp_path / "probes.yaml"
    path.write_text(f"""\
storage:
  url: sqlite:///{tmp_path}/brownout.db
schedule:
  interval: 60s
providers:
  openai:
    kind: openai
    base_url: {sim.openai_url}
    api_key: sk-test-key-for-the-simulator
    models: [gpt-4o-mini, gpt-4o]
    price: {{gpt-4o-mini: {{input: 0.15, output: 0.60}}}}
canaries:
  - name: arithmetic
    prompt: "What is 17 * 23? Reply with the number only."
    expect: {{equals: "391"}}
    max_tokens: 16
""")
    return path


def _row(out: str, target: str, canary: str) -> list[str]:
    rows = [line.split() for line in out.splitlines()]
    return next(row for row in rows if row[:2] == [target, canary])


def test_without_history_the_cost_is_estimated_from_prompt_max_tokens_interval_and_price(
    tmp_path: Path, simulator: SimulatorHandle, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", "--cost", "--config", str(_config(tmp_path, simulator))]) == 0
    out = capsys.readouterr().out
    assert "no stored history" in out
    # 44 characters ≈ 11 tokens + 8 of framing; the answer at its full 16: 35 tokens a probe.
    row = _row(out, "openai/gpt-4o-mini", "arithmetic")
    assert row[2:5] == ["1,440", "35.0", "50,400"]
    # 1,440 × (19 × 0.15 + 16 × 0.60) / 1e6 = $0.0179
    assert row[5] == "$0.0179" and row[6:] == ["config", "estimate"]
    assert _row(out, "openai/gpt-4o", "arithmetic")[5:7] == ["no", "price"]
    assert "total: 100,800 tokens/day, $0.0179/day" in out


def test_with_stored_probes_the_cost_uses_the_measured_tokens(
    tmp_path: Path, simulator: SimulatorHandle, capsys: pytest.CaptureFixture[str]
) -> None:
    config = str(_config(tmp_path, simulator))
    assert main(["once", "--json", "--config", config]) == 0
    probes = [line for line in capsys.readouterr().out.splitlines() if '"gpt-4o-mini"' in line]
    assert main(["check", "--cost", "--config", config]) == 0
    out = capsys.readouterr().out
    row = _row(out, "openai/gpt-4o-mini", "arithmetic")
    assert row[6:] == ["measured", "(1", "probes)"]
    assert probes and row[2] == "1,440"
    assert float(row[3]) != 35.0  # the simulator's own counts, not the estimate
