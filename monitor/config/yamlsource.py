"""YAML read with the line of every value, and `${VAR}` / `${VAR:-default}` from the environment.

Validation errors point at `FILE:LINE`, so the loader keeps, for every path into the document
(`("providers", "openai", "models", 0)`), the line it came from.

Hostile or mistaken input is a `YamlProblem` with a line, never a hang or a crash: a key given
twice in one mapping (the later one would silently win), a tag PyYAML's safe loader does not
know (`!custom`), nesting deeper than `MAX_DEPTH`, and aliases that expand to more than
`MAX_VALUES` values (the "billion laughs").
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

Path = tuple[str | int, ...]
MAX_DEPTH = 64
"""Mappings and lists nested deeper than this are refused (a config is a few levels deep)."""
MAX_VALUES = 100_000
"""Values after expanding aliases; a config has hundreds, an alias bomb billions."""
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
    """Parse YAML `text`, expanding `${VAR}` in string scalars from `env`.

    Raises YamlProblem for text that is not YAML or is refused (see the module docstring)."""
    try:
        node = yaml.compose(text, Loader=_Composer)
        doc = Document(data=None)
        if node is not None:
            doc.data = _Builder(doc, env).build(node, ())
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        raise YamlProblem(f"not valid YAML: {exc.problem or exc}", line) from exc
    except yaml.YAMLError as exc:
        raise YamlProblem(f"not valid YAML: {exc}", 1) from exc
    return doc


class _Composer(yaml.SafeLoader):
    """PyYAML's safe loader, refusing nesting deeper than MAX_DEPTH while it composes (its
    composer recurses, so 5,000 `[` would otherwise end in a RecursionError)."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
                raise YamlProblem(
                    f"the document is nested more than {MAX_DEPTH} levels deep", mark.line + 1
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


class _Builder:
    """Turns composed nodes into plain data, recording lines and counting expanded values."""

    def __init__(self, doc: Document, env: Mapping[str, str]) -> None:
        self.doc = doc
        self.env = env
        self.values = 0
        self._constructor = yaml.SafeLoader("")

    def build(self, node: yaml.Node, path: Path) -> Any:
        doc = self.doc
        line = node.start_mark.line + 1
        doc.lines[path] = line
        self.values += 1
        if self.values > MAX_VALUES:
            raise YamlProblem(
                f"the document expands to more than {MAX_VALUES:,} values (aliases?)", line
            )
        if isinstance(node, yaml.MappingNode):
            out: dict[Any, Any] = {}
            first_line: dict[Any, int] = {}
            for key_node, value_node in node.value:
                key = self._scalar(key_node)
                key_line = key_node.start_mark.line + 1
                try:
                    seen = key in first_line
                except TypeError:  # an unhashable key (a list): PyYAML's own message
                    raise YamlProblem("a mapping key must be a plain value", key_line) from None
                if seen:
                    raise YamlProblem(
                        f"the key {key!r} is given twice (first on line {first_line[key]})",
                        key_line,
                    )
                first_line[key] = key_line
                child = (*path, key if isinstance(key, str | int) else str(key))
                doc.lines[child] = key_line
                out[key] = self.build(value_node, child)
                doc.lines[child] = key_line
            return out
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
        value = self._scalar(node)
        if isinstance(value, str) and "${" in value:
            return _expand(value, path, doc, self.env)
        return value

    def _scalar(self, node: yaml.Node) -> Any:
        """A scalar constructed the standard (safe) way; an unknown tag raises a
        ConstructorError, which carries its line."""
        return self._constructor.construct_object(node, deep=True)


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
