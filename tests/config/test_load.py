"""The config is validated strictly, once, and every problem is reported as FILE:LINE: message."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.cli import main
from monitor.config import load_config
from monitor.errors import ConfigError

GOOD = """\
storage:
  url: sqlite:///x.db
schedule:
  interval: 30s
  timeout: 500ms
providers:
  openai:
    kind: openai
    base_url: https://api.openai.com/v1
    api_key: ${OPENAI_API_KEY}
    models: [gpt-4o-mini, gpt-4o]
    price: {gpt-4o-mini: {input: 0.15, output: 0.60}}
  local:
    kind: openai
    base_url: ${LOCAL_URL:-http://127.0.0.1:11434/v1}
    models: [llama3.2]
canaries:
  - name: arithmetic
    prompt: "What is 17 * 23? Reply with the number only."
    expect: {equals: "391"}
  - name: fresh
    generator: arithmetic
"""


def _write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "probes.yaml"
    path.write_text(text)
    return str(path)


def test_a_good_config_loads_with_durations_and_env(tmp_path: Path) -> None:
    config = load_config(_write(tmp_path, GOOD), env={"OPENAI_API_KEY": "sk-test-key-123456"})
    assert config.schedule.interval == 30.0 and config.schedule.timeout == 0.5
    assert [t.name for t in config.targets()] == [
        "openai/gpt-4o-mini",
        "openai/gpt-4o",
        "local/llama3.2",
    ]
    assert config.providers["local"].base_url == "http://127.0.0.1:11434/v1"
    assert config.secrets() == ["sk-test-key-123456"]
    assert config.targets()[0].price is not None and config.targets()[1].price is None
    assert config.warnings == []


def test_a_provider_whose_key_is_unset_is_skipped_with_a_warning(tmp_path: Path) -> None:
    config = load_config(_write(tmp_path, GOOD), env={})
    assert [t.name for t in config.targets()] == ["local/llama3.2"]
    assert config.warnings == [
        f"{tmp_path}/probes.yaml:10: provider openai skipped: OPENAI_API_KEY is not set"
    ]


def test_brownout_db_overrides_the_storage_url(tmp_path: Path) -> None:
    config = load_config(_write(tmp_path, GOOD), env={"BROWNOUT_DB": "sqlite:///other.db"})
    assert config.storage.url == "sqlite:///other.db"


@pytest.mark.parametrize(
    ("old", "new", "line", "message"),
    [
        ("interval: 30s", "interval: 30 parsecs", 4, "is not a duration"),
        ("interval: 30s", "interval: -5", 4, "cannot be negative"),
        ("timeout: 500ms", "timeout: 500ms\n  tmeout: 1s", 6, "unknown key 'tmeout'"),
        (
            "kind: openai\n    base_url: https://api",
            "kind: openaj\n    base_url: https://api",
            8,
            "unknown kind 'openaj'",
        ),
        ("base_url: https://api.openai.com/v1", "base_url: ftp://x", 9, "must be an http(s) URL"),
        ("models: [gpt-4o-mini, gpt-4o]", "models: []", 11, "at least 1 item"),
        (
            "{gpt-4o-mini: {input",
            "{gpt-5: {input",
            12,
            "price given for models not in models: gpt-5",
        ),
        ('expect: {equals: "391"}', 'expect: {equals: "391", contains: "3"}', 20, "exactly one of"),
        ('expect: {equals: "391"}', 'expect: {regex: "(("}', 20, "regex does not compile"),
        ("generator: arithmetic", "generator: astrology", 21, "unknown generator 'astrology'"),
        ("name: fresh", "name: arithmetic", 21, "'arithmetic' is used twice"),
        (
            "  - name: fresh\n    generator: arithmetic\n",
            "  - name: fresh\n",
            21,
            "needs prompt and expect, or a generator",
        ),
        ("storage:\n", "storage:\n  bogus: [\n", 4, "not valid YAML"),
        (
            "  local:\n    kind: openai\n",
            "  claude:\n    kind: anthropic\n    base_url: https://a.example\n    models: [c]\n  local:\n    kind: openai\n",
            13,
            "needs api_key; add `api_key: ${ANTHROPIC_API_KEY}`",
        ),
        ("url: sqlite:///x.db", "url: ${NO_SUCH_DB_URL}", 2, "NO_SUCH_DB_URL is not set"),
    ],
)
def test_a_broken_config_names_its_line_and_problem(
    tmp_path: Path, old: str, new: str, line: int, message: str
) -> None:
    assert old in GOOD
    path = _write(tmp_path, GOOD.replace(old, new, 1))
    with pytest.raises(ConfigError) as caught:
        load_config(path, env={"OPENAI_API_KEY": "sk-test"})
    assert any(p.startswith(f"{path}:{line}:") and message in p for p in caught.value.problems), (
        caught.value.problems
    )


def test_every_problem_is_reported_at_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    text = (
        GOOD.replace("interval: 30s", "interval: soon")
        .replace("kind: openai\n    base_url: https://api", "kind: nope\n    base_url: https://api")
        .replace("name: fresh", "name: arithmetic")
    )
    path = _write(tmp_path, text)
    assert main(["check", "--config", path]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert [ln.split(":")[1] for ln in lines] == ["4", "8", "21"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "the config is empty"),
        ("- just\n- a list\n", "must be a mapping"),
        ("\x00\x01", "holds a NUL byte"),
        ("a: [1\n", "not valid YAML"),
    ],
)
def test_odd_files_give_one_clear_line(tmp_path: Path, text: str, message: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert message in caught.value.problems[0]


def test_a_missing_file_is_a_config_error_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", "--config", str(tmp_path / "nope.yaml")]) == 2
    assert "config file not found" in capsys.readouterr().err


def test_the_shipped_config_is_valid() -> None:
    config = load_config(
        str(Path(__file__).parents[2] / "probes.yaml"), env={"OPENAI_API_KEY": "sk-x"}
    )
    assert [t.name for t in config.targets()] == ["openai/gpt-4o-mini"]
    assert len(config.warnings) == 4


def test_a_family_member_that_is_not_a_target_is_a_problem_unless_its_provider_was_skipped(
    tmp_path: Path,
) -> None:
    text = GOOD + "families:\n  fast: [openai/gpt-4o-mini, local/llama3.2, local/nope]\n"
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_config(path, env={})
    assert caught.value.problems == [
        f"{path}:24: families.fast: 'local/nope' is not a configured target"
    ]
