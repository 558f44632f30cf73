"""YAML in, plain values out, with the line of every value kept so that errors can point
at the exact place in the file."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

Location = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class Problem:
    """One mistake in an input file: where it is and what to do about it."""

    file: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.message}"


class SourceError(Exception):
    """Raised when a file cannot be used; `problems` says every reason found."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass(frozen=True, slots=True)
class Located:
    """A parsed document with the line of every node, by its path of keys and indexes."""

    file: str
    data: Any
    lines: dict[Location, int]

    def line_of(self, loc: Location) -> int | None:
        """The line of `loc`, or of the nearest enclosing node that has one."""
        for end in range(len(loc), -1, -1):
            line = self.lines.get(loc[:end])
            if line is not None:
                return line
        return None

    def problem(self, loc: Location, message: str) -> Problem:
        return Problem(self.file, self.line_of(loc), message)


class _Loader(yaml.SafeLoader):
    """SafeLoader without the YAML 1.1 booleans yes/no/on/off, which turn the country code
    `no` or the word `on` into booleans and surprise policy authors."""


_Loader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:bool"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)


def load_yaml(text: str, file: str) -> Located:
    """Parse one YAML document; raise SourceError with the line on a syntax error."""
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = mark.line + 1 if mark is not None else None
        raise SourceError([Problem(file, line, f"YAML syntax: {exc.problem}")]) from exc
    except yaml.YAMLError as exc:
        raise SourceError([Problem(file, None, f"YAML: {exc}")]) from exc
    if node is None:
        raise SourceError([Problem(file, None, "the file is empty")])
    lines: dict[Location, int] = {}
    problems: list[Problem] = []
    data = _convert(node, (), lines, problems, file)
    if problems:
        raise SourceError(problems)
    return Located(file=file, data=data, lines=lines)


def load_yaml_file(path: Path) -> Located:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SourceError([Problem(str(path), None, f"cannot read: {exc}")]) from exc
    return load_yaml(text, str(path))


def _convert(
    node: Node, loc: Location, lines: dict[Location, int], problems: list[Problem], file: str
) -> Any:
    lines[loc] = node.start_mark.line + 1
    if isinstance(node, MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = _Loader.construct_object(_Loader(""), key_node) if isinstance(
                key_node, ScalarNode
            ) else None
            if not isinstance(key, str | int):
                problems.append(
                    Problem(file, key_node.start_mark.line + 1, "keys must be plain words")
                )
                continue
            key = str(key)
            if key in out:
                problems.append(
                    Problem(file, key_node.start_mark.line + 1, f"duplicate key '{key}'")
                )
                continue
            out[key] = _convert(value_node, (*loc, key), lines, problems, file)
        return out
    if isinstance(node, SequenceNode):
        return [
            _convert(item, (*loc, i), lines, problems, file) for i, item in enumerate(node.value)
        ]
    loader = _Loader("")
    try:
        return loader.construct_object(node, deep=True)
    except yaml.YAMLError as exc:
        problems.append(Problem(file, node.start_mark.line + 1, f"bad value: {exc}"))
        return None
