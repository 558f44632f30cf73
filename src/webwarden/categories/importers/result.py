"""The typed result every importer returns: entries by category, plus every line that was
rejected or adjusted, with file, line number and reason."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from webwarden.categories.errors import CategoryError


class SourceError(CategoryError):
    """A whole source is unusable (missing, unreadable, not the expected layout)."""


@dataclass(frozen=True, slots=True)
class LineIssue:
    """One rejected or adjusted line. `line` is 1-based; 0 means the whole file."""

    source: str
    line: int
    text: str
    reason: str

    def __str__(self) -> str:
        where = f"{self.source}:{self.line}" if self.line else self.source
        return f"{where}: {self.reason}: {self.text!r}" if self.text else f"{where}: {self.reason}"


@dataclass(slots=True)
class ImportResult:
    """Entries found in one or more sources.

    `domains` maps a category to its normalised domain/IP entries, `urls` to its
    (host, path) entries. `categories` also holds categories whose files were empty
    (they still exist as names). `duplicates` counts entries seen twice in the same
    category (merged, not rejected); the same entry in two categories is normal and
    counted by the snapshot builder as an overlap.
    """

    domains: dict[str, set[str]] = field(default_factory=dict)
    urls: dict[str, set[tuple[str, str]]] = field(default_factory=dict)
    categories: set[str] = field(default_factory=set)
    rejected: list[LineIssue] = field(default_factory=list)
    notices: list[LineIssue] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    lines: int = 0
    duplicates: int = 0

    def add_domain(self, category: str, host: str) -> None:
        hosts = self.domains.setdefault(category, set())
        before = len(hosts)
        hosts.add(host)
        if len(hosts) == before:
            self.duplicates += 1

    def add_url(self, category: str, host: str, path: str) -> None:
        entries = self.urls.setdefault(category, set())
        before = len(entries)
        entries.add((host, path))
        if len(entries) == before:
            self.duplicates += 1

    def reject(self, source: str, line: int, text: str, reason: str) -> None:
        self.rejected.append(LineIssue(source, line, text, reason))

    def note(self, source: str, line: int, text: str, reason: str) -> None:
        self.notices.append(LineIssue(source, line, text, reason))

    def extend(self, other: ImportResult) -> None:
        """Merge another result into this one (sources are imported independently)."""
        for category, hosts in other.domains.items():
            for host in hosts:
                self.add_domain(category, host)
        for category, entries in other.urls.items():
            for host, path in entries:
                self.add_url(category, host, path)
        self.categories |= other.categories
        self.rejected.extend(other.rejected)
        self.notices.extend(other.notices)
        self.sources.extend(other.sources)
        self.lines += other.lines
        self.duplicates += other.duplicates

    @property
    def domain_entries(self) -> int:
        return sum(len(hosts) for hosts in self.domains.values())

    @property
    def url_entries(self) -> int:
        return sum(len(entries) for entries in self.urls.values())

    def rejection_reasons(self) -> Counter[str]:
        return Counter(issue.reason for issue in self.rejected)

    def notice_reasons(self) -> Counter[str]:
        return Counter(issue.reason for issue in self.notices)
