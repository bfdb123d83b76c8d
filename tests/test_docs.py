"""The repository stands alone: its documents point only at files it contains.

Walks every file git tracks (`.md`, `.py`, `.yaml`/`.yml`, `.toml`) and fails on
- a reference to the folder of sources outside the repository that the project was built from;
- a relative Markdown link or image (`[text](path)`) whose file is not in the repository;
- a Markdown file named anywhere (`docs/detection.md`, `README.md`) that is not in the repository.
"""

from __future__ import annotations

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
