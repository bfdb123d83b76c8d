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
    assert row[2:6] == ["short", "1,440", "35.0", "50,400"]
    # 1,440 × (19 × 0.15 + 16 × 0.60) / 1e6 = $0.0179
    assert row[6] == "$0.0179" and row[7:] == ["config", "estimate"]
    assert _row(out, "openai/gpt-4o", "arithmetic")[6:8] == ["no", "price"]
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
    assert row[7:] == ["measured", "(1", "probes)"]
    assert probes and row[3] == "1,440"
    assert float(row[4]) != 35.0  # the simulator's own counts, not the estimate


def _tiered_config(tmp_path: Path, sim: SimulatorHandle, budget: str = "") -> Path:
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
    models: [gpt-4o-mini]
    price: {{gpt-4o-mini: {{input: 0.15, output: 0.60}}}}
canaries:
  - name: reach
    prompt: "Say OK."
    expect: {{regex: "."}}
    max_tokens: 1
    every: 30s
    tier: reach
  - name: arithmetic
    prompt: "What is 17 * 23? Reply with the number only."
    expect: {{equals: "391"}}
  - name: long
    generator: long_10k
    every: 4h
    tier: long
  - name: load
    prompt: "What is 17 * 23? Reply with the number only."
    expect: {{equals: "391"}}
    every: 1d
    burst: 20
{budget}""")
    return path


def test_each_canary_is_counted_at_its_own_cadence_with_a_line_per_tier(
    tmp_path: Path, simulator: SimulatorHandle, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", "--cost", "--config", str(_tiered_config(tmp_path, simulator))]) == 0
    out = capsys.readouterr().out
    target = "openai/gpt-4o-mini"
    assert _row(out, target, "reach")[2:4] == ["reach", "2,880"]
    assert _row(out, target, "arithmetic")[2:4] == ["short", "1,440"]
    assert _row(out, target, "long")[2:4] == ["long", "6"]
    assert _row(out, target, "load")[2:4] == ["burst", "20"]
    # The generated long prompt is about 10,000 tokens, not a line of YAML.
    assert 9_500 < float(_row(out, target, "long")[4].replace(",", "")) < 10_500
    tiers = [line.split()[2] for line in out.splitlines() if "(tier" in line]
    assert tiers == ["burst)", "long)", "reach)", "short)"]
    assert "budget: none set" in out


def test_a_cadence_over_the_budget_is_warned_of_or_refused_as_the_budget_says(
    tmp_path: Path, simulator: SimulatorHandle, capsys: pytest.CaptureFixture[str]
) -> None:
    # About 60,000 tokens a day for the long prompt alone: over 50,000.
    warn = _tiered_config(tmp_path, simulator, "budget: {tokens_per_day: 50000}\n")
    assert main(["check", "--cost", "--config", str(warn)]) == 0
    captured = capsys.readouterr()
    assert "tokens/day (warn): over" in captured.out
    assert "warning:" in captured.err and "against a budget of 50,000" in captured.err

    refuse = _tiered_config(tmp_path, simulator, "budget: {usd_per_day: 0.001, action: refuse}\n")
    assert main(["check", "--config", str(refuse)]) == 2
    captured = capsys.readouterr()
    assert "valid" not in captured.out
    assert "budget: the configured canaries would spend $" in captured.err

    roomy = _tiered_config(tmp_path, simulator, "budget: {usd_per_day: 100, action: refuse}\n")
    assert main(["check", "--cost", "--config", str(roomy)]) == 0
    assert "$100.0000/day (refuse): within" in capsys.readouterr().out


def test_brownout_run_refuses_a_config_over_its_budget_before_starting(
    tmp_path: Path, simulator: SimulatorHandle, capsys: pytest.CaptureFixture[str]
) -> None:
    refuse = _tiered_config(tmp_path, simulator, "budget: {tokens_per_day: 1000, action: refuse}\n")
    assert main(["run", "--duration", "5s", "--config", str(refuse)]) == 2
    assert "budget:" in capsys.readouterr().err
    assert not (tmp_path / "brownout.db").exists()
