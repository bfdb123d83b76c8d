"""The repository stands alone: its documents point only at files it contains.

Walks every file git tracks (`.md`, `.py`, `.yaml`/`.yml`, `.toml`) and fails on
- a reference to the folder of sources outside the repository that the project was built from;
- a relative Markdown link or image (`[text](path)`) whose file is not in the repository;
- a Markdown file named anywhere (`docs/detection.md`, `README.md`) that is not in the repository;
- in the documents (every `.md` but CHANGELOG.md, which records names as they were), a path of
  the repository in backticks (`monitor/store/db.py`, `tests/alerts/`) that is not there, or a
  module or name (`monitor.store.results.record`) that does not import: a module was moved and
  the page that names it was not updated.
"""

from __future__ import annotations

import importlib
import re
import shutil
import subprocess
from pathlib import Path, PurePosixPath

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCANNED = (".md", ".py", ".yaml", ".yml", ".toml")
OUTSIDE = "../" + "shared"  # spelled in two parts so this file does not name it
# [text](target) and ![alt](target); the target ends at whitespace or the closing parenthesis.
LINK = re.compile(r"!?\[[^\]\n]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
# A Markdown file named in text: `docs/x.md`, `../README.md`, `CHANGELOG.md`.
MD_NAME = re.compile(r"(?<![\w./:-])((?:\.{1,2}/)*[\w-]+(?:/[\w.-]+)*\.md)\b")
FENCE = re.compile(r"^(```|~~~).*?^\1", re.MULTILINE | re.DOTALL)
# Top folders of the repository whose paths documents name in backticks.
FOLDERS = ("monitor", "tests", "bench", "dashboard", "docs", "scenarios", "tools")
CODE_PATH = re.compile(r"`((?:" + "|".join(FOLDERS) + r")/[^`\s]*)`")
DOTTED = re.compile(r"`((?:monitor|bench)(?:\.[A-Za-z_]\w*)+)")


def tracked_files() -> list[str]:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout: the tracked files are not known")
    out = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout.decode()
    return [p for p in out.split("\0") if p]


def resolve(source: str, target: str) -> str | None:
    """`target` as a repository path, seen from the file `source`; None if it leaves the repo."""
    parts: list[str] = []
    for part in (PurePosixPath(source).parent / target).parts:
        if part == "..":
            if not parts:
                return None
            parts.pop()
        elif part != ".":
            parts.append(part)
    return "/".join(parts)


def exists(path: str | None, files: set[str], folders: set[str]) -> bool:
    return path is not None and (path in files or path.rstrip("/") in folders)


def broken_links(source: str, text: str, files: set[str], folders: set[str]) -> list[str]:
    """Relative links of a Markdown file (outside code blocks) that name no file of the repo."""
    problems = []
    for match in LINK.finditer(FENCE.sub("", text)):
        target = match.group(1)
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.IGNORECASE) or target.startswith("#"):
            continue  # a URL (https:, mailto:) or an anchor on the same page
        path = target.split("#", 1)[0].split("?", 1)[0]
        if path.startswith("/"):
            problems.append(f"{source}: link {target!r} is absolute; link relative to the file")
        elif not exists(resolve(source, path), files, folders):
            problems.append(f"{source}: link {target!r} points to no file of the repository")
    return problems


def unknown_md_names(source: str, text: str, files: set[str]) -> list[str]:
    """Markdown files named in `text` that the repository does not hold."""
    basenames = {PurePosixPath(f).name for f in files}
    problems = []
    for name in sorted(set(MD_NAME.findall(text))):
        if "/" in name:
            known = resolve(source, name) in files or resolve("", name) in files
        else:
            known = name in basenames
        if not known:
            problems.append(f"{source}: names {name!r}, which is not in the repository")
    return problems


def missing_paths(source: str, text: str, files: set[str], folders: set[str]) -> list[str]:
    """Repository paths in backticks (`monitor/x.py`, `monitor/x.py:NAME`, `tests/a/`) that are
    not there. Patterns and placeholders (`*`, `{model}`, `<name>`, `…`) are not paths."""
    problems = []
    paths = {token.split(":", 1)[0] for token in CODE_PATH.findall(text)}
    for path in sorted(paths):
        if any(c in path for c in "*{}<>…[]()"):
            continue
        if not exists(path.rstrip("/"), files, folders):
            problems.append(f"{source}: names `{path}`, which is not in the repository")
    return problems


def missing_names(source: str, text: str) -> list[str]:
    """Dotted names in backticks (`monitor.store.open_store`) whose module does not import or
    that the module does not have."""
    problems = []
    for name in sorted(set(DOTTED.findall(text))):
        parts = name.split(".")
        found: object = None
        cut = len(parts)
        while cut and found is None:
            try:
                found = importlib.import_module(".".join(parts[:cut]))
            except ModuleNotFoundError:
                cut -= 1
        for attribute in parts[cut:]:
            found = getattr(found, attribute, None)
        if found is None:
            problems.append(f"{source}: names `{name}`, which does not import")
    return problems


def test_the_repository_refers_to_nothing_outside_itself() -> None:
    files = tracked_files()
    offenders = []
    for name in files:
        if name.endswith(SCANNED) and (ROOT / name).is_file():
            for number, line in enumerate((ROOT / name).read_text("utf-8").splitlines(), 1):
                if OUTSIDE in line:
                    offenders.append(f"{name}:{number}: {line.strip()}")
    assert offenders == []


def test_every_relative_markdown_link_points_to_a_file_of_the_repository() -> None:
    files = tracked_files()
    present = {f for f in files if (ROOT / f).exists()}
    folders = {str(PurePosixPath(f).parent) for f in present}
    problems = []
    for name in sorted(present):
        if name.endswith(".md"):
            problems += broken_links(name, (ROOT / name).read_text("utf-8"), present, folders)
    assert problems == []


def test_every_markdown_file_named_in_the_repository_is_in_it() -> None:
    files = tracked_files()
    present = {f for f in files if (ROOT / f).exists()}
    problems = []
    for name in sorted(present):
        if name.endswith(SCANNED) and name != "tests/test_docs.py":
            problems += unknown_md_names(name, (ROOT / name).read_text("utf-8"), present)
    assert problems == []


def test_every_path_and_module_a_document_names_is_in_the_repository() -> None:
    files = tracked_files()
    present = {f for f in files if (ROOT / f).exists()}
    folders = {str(p) for f in present for p in PurePosixPath(f).parents}
    problems = []
    for name in sorted(present):
        if name.endswith(".md") and name != "CHANGELOG.md":
            text = (ROOT / name).read_text("utf-8")
            problems += missing_paths(name, text, present, folders)
            problems += missing_names(name, text)
    assert problems == []


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("`monitor/a.py` and `monitor/a.py:NAME` and `tests/b/` and `docs/`", []),
        ("`monitor/gone.py` or `monitor/gone.py::f`", ["monitor/gone.py"]),
        ("`tests/nothing/` and `monitor/*.py` and `monitor/{x}.py`", ["tests/nothing/"]),
        ("`openai/openai-python/tests/x.py`, `monitorx/y.py`", []),
    ],
)
def test_a_path_that_is_not_in_the_repository_is_found(text: str, found: list[str]) -> None:
    files = {"monitor/a.py", "tests/b/test_c.py"}
    folders = {"monitor", "tests", "tests/b", "docs"}
    problems = missing_paths("docs/x.md", text, files, folders)
    assert [p.split("`")[1] for p in problems] == found


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("`monitor.result.ProbeResult.to_dict`, `monitor.errors`", []),
        ("`monitor.store.open_store(url)` and `monitor.result.Outcome.OK`", []),
        ("`monitor.no_such_module.f`", ["monitor.no_such_module.f"]),
        ("`monitor.result.NoSuchName`", ["monitor.result.NoSuchName"]),
    ],
)
def test_a_name_that_does_not_import_is_found(text: str, found: list[str]) -> None:
    assert [p.split("`")[1] for p in missing_names("docs/x.md", text)] == found


@pytest.mark.parametrize(
    ("source", "text", "found"),
    [
        ("docs/a.md", "see [b](b.md) and [top](../README.md#usage)", []),
        ("docs/a.md", "see [gone](gone.md)", ["docs/a.md: link 'gone.md' points to no file"]),
        ("README.md", "![shot](docs/missing.png)", ["README.md: link 'docs/missing.png' points"]),
        ("docs/a.md", "[up](../../outside.md)", ["docs/a.md: link '../../outside.md' points"]),
        ("docs/a.md", "[web](https://example.com/x.md) [here](#rules) [mail](mailto:a@b.c)", []),
        ("docs/a.md", "```\n[not a link](nowhere.md)\n```\n", []),
        ("docs/a.md", "[folder](../docs/)", []),
    ],
)
def test_a_broken_relative_link_is_found(source: str, text: str, found: list[str]) -> None:
    files = {"README.md", "docs/a.md", "docs/b.md"}
    problems = broken_links(source, text, files, {"docs", ""})
    assert [p[: len(f)] for p, f in zip(problems, found, strict=False)] == found
    assert len(problems) == len(found)


@pytest.mark.parametrize(
    ("source", "text", "found"),
    [
        ("probes.yaml", "# See docs/b.md and README.md.", []),
        ("probes.yaml", "# See ../README.md.", ["../README.md"]),
        ("monitor/x.py", '"""The record DESIGN.md pins."""', ["DESIGN.md"]),
        ("docs/a.md", "as [b.md](b.md) says", []),
        ("tests/t.py", 'out = "/nonexistent/dir/r.md"', []),
        ("docs/a.md", "https://github.com/org/repo/blob/main/NOTES.md", []),
    ],
)
def test_a_markdown_file_named_but_absent_is_found(
    source: str, text: str, found: list[str]
) -> None:
    files = {"README.md", "docs/a.md", "docs/b.md"}
    problems = unknown_md_names(source, text, files)
    assert [p.split("'")[1] for p in problems] == found


def _blocks(text: str, language: str) -> list[str]:
    return re.findall(r"^```" + language + r"\n(.*?)^```", text, re.MULTILINE | re.DOTALL)


def test_the_contracts_config_example_is_a_valid_config(tmp_path: Path) -> None:
    from monitor.config import load_config

    [example] = _blocks((ROOT / "docs/contract.md").read_text("utf-8"), "yaml")
    path = tmp_path / "probes.yaml"
    path.write_text(example, "utf-8")
    config = load_config(str(path), env={"OPENAI_API_KEY": "sk-test-fake", "NTFY_TOPIC": "t"})
    assert [t.name for t in config.targets()] == ["openai/gpt-4o-mini", "openai/gpt-4.1-mini"]


def test_the_contracts_result_record_has_every_field_a_result_has() -> None:
    import json

    from monitor.result import ProbeResult

    [example] = _blocks((ROOT / "docs/contract.md").read_text("utf-8"), "json")
    record = json.loads(example)
    assert list(record) == list(ProbeResult.from_dict(record).to_dict())
