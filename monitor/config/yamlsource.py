"""YAML read with the line of every value, and `${VAR}` / `${VAR:-default}` from the environment.

Validation errors point at `FILE:LINE`, so the loader keeps, for every path into the document
(`("providers", "openai", "models", 0)`), the line it came from.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

Path = tuple[str | int, ...]
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


@dataclass
class Document:
    """A parsed YAML document: plain Python data plus the line of each path (1-based)."""

    data: Any
    lines: dict[Path, int] = field(default_factory=dict)
    # Paths whose value named an environment variable that is not set (and had no default).
    unset: dict[Path, str] = field(default_factory=dict)

    def line_of(self, path: Path) -> int:
        """The line of `path`, or of its nearest ancestor that has one."""
        for end in range(len(path), -1, -1):
            line = self.lines.get(tuple(path[:end]))
            if line is not None:
                return line
        return 1


class YamlProblem(Exception):
    """The text is not YAML; `line` says where the parser stopped."""

    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.line = line


def parse(text: str, env: Mapping[str, str]) -> Document:
    """Parse YAML `text`, expanding `${VAR}` in string scalars from `env`."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        raise YamlProblem(f"not valid YAML: {exc.problem or exc}", line) from exc
    except yaml.YAMLError as exc:
        raise YamlProblem(f"not valid YAML: {exc}", 1) from exc
    doc = Document(data=None)
    if node is not None:
        doc.data = _build(node, (), doc, env)
    return doc


def _build(node: yaml.Node, path: Path, doc: Document, env: Mapping[str, str]) -> Any:
    doc.lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = yaml.SafeLoader(  # a key is a plain scalar; construct it the standard way
                ""
            ).construct_object(key_node, deep=True)
            child = (*path, key if isinstance(key, str | int) else str(key))
            doc.lines[child] = key_node.start_mark.line + 1
            out[key] = _build(value_node, child, doc, env)
            doc.lines[child] = key_node.start_mark.line + 1
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_build(item, (*path, i), doc, env) for i, item in enumerate(node.value)]
    value = yaml.SafeLoader("").construct_object(node, deep=True)
    if isinstance(value, str) and "${" in value:
        return _expand(value, path, doc, env)
    return value


def _expand(value: str, path: Path, doc: Document, env: Mapping[str, str]) -> str:
    def sub(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        found = env.get(name)
        if found:
            return found
        if default is not None:
            return default
        doc.unset.setdefault(path, name)
        return ""

    return _VAR.sub(sub, value)
