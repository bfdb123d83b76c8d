"""The container: the Dockerfile and compose.yaml hold together with the code, and, where a
container engine runs, the image builds and starts. This machine has the docker client but no
engine, so the build test skips here with that reason; everything else is checked without one."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from monitor.cli import build_parser

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = (ROOT / "Dockerfile").read_text()
COMPOSE: dict[str, Any] = yaml.safe_load((ROOT / "compose.yaml").read_text())


def _defaults(word: str) -> str:
    """A compose word with `${VAR:-default}` at its default and `${VAR:?…}` at a sample."""
    word = re.sub(r"\$\{[A-Z_]+:-([^}]*)\}", r"\1", word)
    return re.sub(r"\$\{[A-Z_]+:\?[^}]*\}", "dummy-token", word)


def _copied() -> list[str]:
    out = []
    for line in DOCKERFILE.splitlines():
        if line.startswith("COPY "):
            out += line.split()[1:-1]
    return out


def test_every_file_the_image_copies_is_tracked_and_not_ignored() -> None:
    tracked = set(
        subprocess.run(
            ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.split()
    )
    ignored = (ROOT / ".dockerignore").read_text().split()
    for path in _copied():
        assert path in tracked or any(t.startswith(path + "/") for t in tracked), path
        assert path not in ignored, path


def test_the_image_runs_from_the_files_it_copies(tmp_path: Path) -> None:
    """What the image holds (the COPY lines only) is enough to check its default config and the
    demo profile's, as its CMD and the compose services will."""
    for path in _copied():
        source = ROOT / path
        if source.is_dir():
            shutil.copytree(source, tmp_path / path, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(source, tmp_path / path)
    shutil.copy(ROOT / "docker" / "demo.yaml", tmp_path / "demo.yaml")
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    env = {k: v for k, v in env.items() if not k.endswith("_API_KEY") and k != "BROWNOUT_DB"}
    for config in ("probes.yaml", "demo.yaml"):
        done = subprocess.run(
            [sys.executable, "-m", "monitor", "check", "--config", config],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, done.stderr
        assert "valid" in done.stdout
    assert (tmp_path / "dashboard" / "app.py").exists()


def test_the_images_command_and_the_compose_commands_are_what_brownout_accepts() -> None:
    cmd = re.search(r"^CMD \[(.*)\]$", DOCKERFILE, re.M)
    assert cmd is not None
    argv = [w.strip().strip('"') for w in cmd.group(1).split(",")]
    commands = [argv]
    for name in ("monitor", "simulator"):
        commands.append([_defaults(str(w)) for w in COMPOSE["services"][name]["command"]])
    for words in commands:
        assert words[0] == "brownout", words
        parser = build_parser(words[1])
        args = parser.parse_args(words[1:])
        assert args.command == words[1]
    page = COMPOSE["services"]["page"]["command"]
    assert page[:2] == ["streamlit", "run"] and (ROOT / page[2]).exists()


def test_compose_wires_one_postgresql_for_the_monitor_and_the_page() -> None:
    services = COMPOSE["services"]
    urls = {_defaults(services[s]["environment"]["BROWNOUT_DB"]) for s in ("monitor", "page")}
    assert urls == {"postgresql+psycopg://brownout:brownout@postgres:5432/brownout"}
    monitor = services["monitor"]
    # Beyond loopback the API needs a token: compose refuses to start without one.
    assert ":?" in monitor["environment"]["BROWNOUT_API_TOKEN"]
    assert monitor["depends_on"]["postgres"]["condition"] == "service_healthy"
    # Keys pass through from the caller's environment only; none is written here.
    assert all(monitor["environment"][k] is None for k in monitor["environment"] if "KEY" in k)
    assert services["simulator"]["profiles"] == ["demo"]


def test_the_image_runs_as_a_user_without_root() -> None:
    users = re.findall(r"^USER (\S+)$", DOCKERFILE, re.M)
    assert users and users[-1] not in ("root", "0")


def _engine() -> str | None:
    docker = shutil.which("docker")
    if docker is None:
        return "no docker client"
    info = subprocess.run([docker, "info"], capture_output=True, text=True)
    return None if info.returncode == 0 else "no container engine runs here (docker info failed)"


@pytest.mark.slow
def test_the_image_builds_and_answers_its_help() -> None:
    why = _engine()
    if why:
        pytest.skip(why)
    tag = "brownout:test"
    subprocess.run(["docker", "build", "-t", tag, str(ROOT)], check=True)
    done = subprocess.run(
        ["docker", "run", "--rm", tag, "brownout", "check"], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    user = subprocess.run(
        ["docker", "run", "--rm", tag, "id", "-u"], capture_output=True, text=True, check=True
    )
    assert user.stdout.strip() == "10001"
