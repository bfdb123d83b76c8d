"""Bad input, through the real command line: exit 2 and one sentence on stderr, never a traceback,
never a hang, and nothing logged before the refusal.

Each case runs `python -m monitor ...` as a subprocess in a fresh directory. A config case is
given as the text of `probes.yaml` (or bytes, or a path such as /dev/zero); the configs that
`check` used to accept while `run` crashed on them are run through both commands.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

GOOD = """\
storage:
  url: sqlite:///brownout.db
providers:
  sim:
    kind: openai
    base_url: http://127.0.0.1:9/v1
    api_key: sk-test-fake-key-for-bad-input
    models: [m1]
canaries:
  - name: arithmetic
    prompt: "What is 17 * 23? Reply with the number only."
    expect: {equals: "391"}
"""


def _with_schedule(line: str) -> str:
    return GOOD.replace("storage:", f"schedule:\n  {line}\nstorage:", 1)


def _billion_laughs() -> str:
    lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, 10):
        this, prev = chr(ord("a") + i), chr(ord("a") + i - 1)
        lines.append(f"{this}: &{this} [{', '.join([f'*{prev}'] * 9)}]")
    return "\n".join(lines) + "\n"


@dataclass
class Case:
    args: list[str]
    says: str  # a fragment of the one line on stderr: it names what the user typed
    config: str | bytes | None = None  # text of ./probes.yaml
    files: dict[str, str | bytes] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)


# Configs `check` accepted (exit 0) although `run` crashed on them, or that hung `check`.
BROKEN_CONFIGS = {
    "interval .inf": (_with_schedule("interval: .inf"), "probes.yaml:2: schedule.interval"),
    "interval .nan": (_with_schedule("interval: .nan"), "probes.yaml:2: schedule.interval"),
    "interval 1e23 days": (
        _with_schedule("interval: 99999999999999999999999d"),
        "too long a duration",
    ),
    "a model listed twice": (
        GOOD.replace("[m1]", "[m1, m2, m1]"),
        "probes.yaml:8: providers.sim.models: models listed more than once: m1",
    ),
    "a port above 65535": (
        GOOD.replace("127.0.0.1:9/", "127.0.0.1:99999/"),
        "probes.yaml:6: providers.sim.base_url: the port",
    ),
    "a duplicated key": (
        GOOD + "providers: {}\n",
        "probes.yaml:13: the key 'providers' is given twice (first on line 3)",
    ),
    "an empty file": ("", "probes.yaml:1: the config is empty"),
    "only comments": ("# nothing yet\n", "probes.yaml:1: the config is empty"),
    "billion laughs": (_billion_laughs(), "expands to more than"),
    "a custom tag": (GOOD.replace("kind: openai", "kind: !custom openai"), "probes.yaml:5:"),
    "5,000-deep nesting": ("a: " + "[" * 5000 + "]" * 5000 + "\n", "nested more than"),
    "binary bytes": (bytes(range(256)) * 8, "not UTF-8 text"),
    "a NUL byte": (GOOD.replace("m1", "m\x001"), "probes.yaml:8: the file holds a NUL byte"),
    "mysql in storage.url": (
        GOOD.replace("sqlite:///brownout.db", "mysql://me@db/brownout"),
        "probes.yaml:2: storage.url: mysql is not supported",
    ),
}


CLI_CASES = {
    "check /dev/zero": Case(["check", "--config", "/dev/zero"], "/dev/zero:1: the file is over"),
    "BROWNOUT_DB=mysql": Case(
        ["check"],
        "BROWNOUT_DB: mysql is not supported",
        config=GOOD,
        env={"BROWNOUT_DB": "mysql://me@db/brownout"},
    ),
    "BROWNOUT_DB=mysql for status": Case(
        ["status"], "BROWNOUT_DB: mysql", env={"BROWNOUT_DB": "mysql://me@db/brownout"}
    ),
    "report --since 99999999999d": Case(
        ["report", "--since", "99999999999d"], "--since '99999999999d' reaches back more than"
    ),
    "report --since 0s": Case(["report", "--since", "0s"], "--since '0s' is not in the past"),
    "export --since 0s": Case(
        ["export", "--since", "0s", "--format", "csv"], "--since '0s' is not in the past"
    ),
    "simulate --port 99999": Case(["simulate", "--port", "99999"], "--port: port 99999"),
    "simulate --scenario binary": Case(
        ["simulate", "--scenario", "scenario.yaml"],
        "scenario scenario.yaml is not UTF-8 text",
        files={"scenario.yaml": bytes(range(256)) * 8},
    ),
    "simulate --scenario deep": Case(
        ["simulate", "--scenario", "scenario.yaml"],
        "scenario scenario.yaml is nested too deeply",
        files={"scenario.yaml": "models: " + "[" * 5000 + "]" * 5000},
    ),
    "simulate --scenario /dev/zero": Case(
        ["simulate", "--scenario", "/dev/zero"], "scenario /dev/zero is over 1 MB"
    ),
    "run --http on a public address without a token": Case(
        ["run", "--http", "0.0.0.0:0", "--duration", "5s"],
        "serving the API on 0.0.0.0 needs a token",
        config=GOOD,
    ),
    "run --duration forever": Case(
        ["run", "--duration", "forever"], "--duration: 'forever' is not a duration", config=GOOD
    ),
    "run --config with a missing file": Case(
        ["run", "--config", "nowhere.yaml"], "nowhere.yaml:1: config file not found"
    ),
}


def _brownout(tmp_path: Path, case: Case) -> subprocess.CompletedProcess[str]:
    if case.config is not None:
        case.files = {"probes.yaml": case.config, **case.files}
    for name, content in case.files.items():
        path = tmp_path / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("BROWNOUT_")}
    env.update(case.env)
    return subprocess.run(
        [sys.executable, "-m", "monitor", *case.args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,  # a safety net against a hang (a billion laughs took minutes), not a limit
    )


def _assert_one_sentence(run: subprocess.CompletedProcess[str], says: str) -> None:
    lines = run.stderr.splitlines()
    assert run.returncode == 2, run.stderr
    assert "Traceback" not in run.stderr
    assert len(lines) == 1, f"expected one line on stderr, got:\n{run.stderr}"
    assert says in lines[0]
    assert run.stdout == ""


@pytest.mark.parametrize("command", ["check", "run"])
@pytest.mark.parametrize("name", list(BROKEN_CONFIGS))
def test_a_broken_config_is_refused_with_one_sentence(
    tmp_path: Path, name: str, command: str
) -> None:
    config, says = BROKEN_CONFIGS[name]
    args = [command] if command == "check" else [command, "--duration", "5s"]
    _assert_one_sentence(_brownout(tmp_path, Case(args, says, config=config)), says)


@pytest.mark.parametrize("name", list(CLI_CASES))
def test_bad_command_line_input_is_refused_with_one_sentence(tmp_path: Path, name: str) -> None:
    case = CLI_CASES[name]
    _assert_one_sentence(_brownout(tmp_path, case), case.says)


def test_run_refuses_an_address_in_use_before_it_logs_anything(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        case = Case(["run", "--http", f"127.0.0.1:{port}", "--duration", "5s"], "", config=GOOD)
        _assert_one_sentence(_brownout(tmp_path, case), f"cannot listen on 127.0.0.1:{port}")


def test_an_interval_under_a_second_is_accepted_with_a_warning(tmp_path: Path) -> None:
    run = _brownout(tmp_path, Case(["check"], "", config=_with_schedule("interval: 1ms")))
    assert run.returncode == 0, run.stderr
    assert run.stderr.startswith("warning: probes.yaml:2: schedule.interval is 1ms")
    assert "valid; 1 target(s)" in run.stdout
