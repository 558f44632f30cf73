"""Local overrides: the organisation reclassifies domains and URLs on top of the lists.

    # overrides.yaml
    set:                       # replace the categories (an empty list: uncategorised)
      courses.example.org: [elearning]
    add:                       # add categories
      youtube.com: [elearning]
      example.net/training: [elearning]
    remove:                    # remove categories
      vk.com: [adult]

Targets use the list syntax: a domain (it and its subdomains) or `host/path` (a URL
entry, same matching rules as the lists). New category names are allowed. Overrides
are applied at lookup time, after every list match: domain overrides from the least to
the most specific domain, then URL overrides from the shortest to the longest path, so
the most specific one has the last word; for one target `set` comes before `add` and
`add` before `remove`. A target may not be both under `set` and under `add`/`remove`.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

import yaml

from webwarden.categories.entries import EntryError, parse_entry
from webwarden.categories.errors import CategoryError
from webwarden.categories.names import CategoryNameError, check_category_name
from webwarden.categories.normalise import is_ip, strip_www_like
from webwarden.sources import Located, SourceError, load_yaml


class OverridesError(CategoryError):
    """An override file that cannot be used; the message says where and what to fix."""


class Operation(Enum):
    SET = "set"
    ADD = "add"
    REMOVE = "remove"


_ORDER = {Operation.SET: 0, Operation.ADD: 1, Operation.REMOVE: 2}


@dataclass(frozen=True, slots=True)
class Override:
    """One target with one operation. `path` is None for a domain target."""

    host: str
    path: str | None
    operation: Operation
    categories: frozenset[str]
    line: int

    def apply(self, categories: frozenset[str]) -> frozenset[str]:
        if self.operation is Operation.SET:
            return self.categories
        if self.operation is Operation.ADD:
            return categories | self.categories
        return categories - self.categories


@dataclass(frozen=True, slots=True)
class Overrides:
    """A validated override file, indexed by host."""

    source: str
    digest: str
    domain: dict[str, tuple[Override, ...]]
    url: dict[str, tuple[Override, ...]]

    @property
    def entries(self) -> tuple[Override, ...]:
        return tuple(o for group in (*self.domain.values(), *self.url.values()) for o in group)

    @property
    def names(self) -> frozenset[str]:
        """Categories the overrides give to something (they become known names)."""
        return frozenset(
            name
            for override in self.entries
            if override.operation is not Operation.REMOVE
            for name in override.categories
        )

    @property
    def removed_names(self) -> frozenset[str]:
        return frozenset(
            name
            for override in self.entries
            if override.operation is Operation.REMOVE
            for name in override.categories
        )

    def check_known(self, known: Iterable[str]) -> None:
        """Refuse `remove` entries naming a category nobody assigns (most likely a typo)."""
        known_names = frozenset(known) | self.names
        for override in self.entries:
            if override.operation is Operation.REMOVE:
                unknown = sorted(override.categories - known_names)
                if unknown:
                    raise OverridesError(
                        f"{self.source}:{override.line}: remove: unknown category "
                        f"{', '.join(map(repr, unknown))} (not in the lists or these overrides)"
                    )

    def domain_overrides(self, host: str) -> tuple[Override, ...]:
        """Domain overrides matching `host`, least specific first."""
        if not self.domain:
            return ()
        if is_ip(host):
            return self.domain.get(host, ())
        labels = host.split(".")
        found: list[Override] = []
        for start in range(len(labels) - 1, -1, -1):
            found.extend(self.domain.get(".".join(labels[start:]), ()))
        return tuple(found)

    def url_overrides(self, host: str) -> tuple[Override, ...]:
        """URL overrides for `host` (and its www-less form), shortest path first."""
        if not self.url:
            return ()
        found = list(self.url.get(host, ()))
        bare = strip_www_like(host)
        if bare is not None:
            found.extend(self.url.get(bare, ()))
        found.sort(key=lambda o: (len(o.path or ""), _ORDER[o.operation], o.line))
        return tuple(found)


def load_overrides(path: Path) -> Overrides:
    """Read and validate an override file."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise OverridesError(f"{path}: no such override file") from None
    except (OSError, UnicodeDecodeError) as error:
        raise OverridesError(f"{path}: cannot read ({error})") from None
    return parse_overrides(text, str(path))


def parse_overrides(text: str, source: str = "<overrides>") -> Overrides:
    """Validate override YAML given as text; `source` names it in error messages.
    A file with nothing but comments is valid and overrides nothing."""
    parsed: dict[tuple[str, str | None], list[Override]] = {}
    if not _blank(text):
        try:
            located = load_yaml(text, source)
        except SourceError as error:
            raise OverridesError(str(error)) from None
        if not isinstance(located.data, dict):
            raise OverridesError(
                f"{source}:{located.line_of(())}: expected a mapping with set, add and/or remove"
            )
        for name, section in located.data.items():
            try:
                operation = Operation(name)
            except ValueError:
                raise OverridesError(
                    f"{source}:{_key_line(text, name) or located.line_of((name,))}: "
                    f"unknown key {name!r} (expected set, add or remove)"
                ) from None
            for override in _section(located, operation, section):
                parsed.setdefault((override.host, override.path), []).append(override)
    domain: dict[str, list[Override]] = {}
    url: dict[str, list[Override]] = {}
    for (host, path), group in parsed.items():
        operations = [o.operation for o in group]
        if Operation.SET in operations and len(operations) > 1:
            line = max(o.line for o in group)
            raise OverridesError(
                f"{source}:{line}: {host}{path or ''} is under 'set' and under 'add'/'remove'; "
                "list all its categories under 'set'"
            )
        group.sort(key=lambda o: _ORDER[o.operation])
        (domain if path is None else url).setdefault(host, []).extend(group)
    canonical = sorted(
        (o.host, o.path or "", o.operation.value, sorted(o.categories))
        for group in parsed.values()
        for o in group
    )
    digest = hashlib.blake2b(json.dumps(canonical).encode(), digest_size=8).hexdigest()
    return Overrides(
        source=source,
        digest=digest,
        domain={host: tuple(group) for host, group in domain.items()},
        url={host: tuple(group) for host, group in url.items()},
    )


def _key_line(text: str, key: str) -> int | None:
    """Line of a top-level key (the shared reader records the lines of values)."""
    match = re.search(rf"^['\"]?{re.escape(key)}['\"]?\s*:", text, re.MULTILINE)
    return text.count("\n", 0, match.start()) + 1 if match else None


def _blank(text: str) -> bool:
    try:
        return yaml.compose(text, Loader=yaml.SafeLoader) is None
    except yaml.YAMLError:
        return False  # load_yaml reports it with the line


def _section(located: Located, operation: Operation, section: Any) -> list[Override]:
    name = operation.value
    if section is None:
        return []
    if not isinstance(section, dict):
        raise OverridesError(
            f"{located.file}:{located.line_of((name,))}: {name}: expected a mapping of "
            "'domain or host/path: [categories]'"
        )
    overrides: list[Override] = []
    seen: dict[tuple[str, str | None], int] = {}
    for target, value in section.items():
        line = located.line_of((name, target)) or 0
        where = f"{located.file}:{line}: {name}"
        try:
            entry = parse_entry(target.strip(), url_list=False)
        except EntryError as error:
            raise OverridesError(f"{where}: {target!r}: {error}") from None
        key = (entry.host, entry.path)
        if key in seen:
            raise OverridesError(f"{where}: {target!r} is already listed on line {seen[key]}")
        seen[key] = line
        overrides.append(
            Override(entry.host, entry.path, operation, _categories(where, value), line)
        )
    return overrides


def _categories(where: str, value: Any) -> frozenset[str]:
    items = [] if value is None else [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(item, str) for item in items):
        raise OverridesError(f"{where}: expected a list of category names")
    names: set[str] = set()
    for item in items:
        try:
            names.add(check_category_name(item))
        except CategoryNameError as error:
            raise OverridesError(f"{where}: {error}") from None
    return frozenset(names)
