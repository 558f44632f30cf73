"""The UK supplement to the shipped lists: UK banks and building societies, money services,
health, trade unions and counselling services, which UT1 (a French list) lacks.

The source of truth is one CSV per category in `data/uk-supplement/sources/`
(`name,domain,register,reference`, one organisation's domain per row, drawn from a
public register). `scripts/refresh_uk_supplement.py` renders them into UT1-layout
`<category>/domains` (and `urls`) files plus a `manifest.json` with their checksums;
the shipped snapshot imports those files next to the UT1 archive. See
data/uk-supplement/README.md.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import io
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from webwarden.categories.entries import EntryError, parse_entry
from webwarden.categories.importers.lines import import_entry_lines
from webwarden.categories.importers.result import ImportResult, SourceError
from webwarden.categories.names import CategoryNameError, check_category_name
from webwarden.categories.normalise import is_ip

CSV_HEADER = ("name", "domain", "register", "reference")
MANIFEST = "manifest.json"
SOURCES = "sources"
# The registers a row may cite; README.md says which published file each one is.
REGISTERS = frozenset(
    {"PRA", "FCA", "NHS", "CQC", "CO", "TUC", "HP", "CHARITY", "GOV", "ORG"}
)
LIST_KINDS = ("domains", "urls")
_DATA = ("data", "uk-supplement")


class SupplementError(SourceError):
    """The supplement's sources or files are not usable; the message lists every problem."""


@dataclass(frozen=True, slots=True)
class SourceRow:
    """One CSV row: `domain` is a domain (`example.co.uk`) or a URL entry (`host/path`)."""

    category: str
    name: str
    domain: str
    register: str
    reference: str
    where: str  # "file:line", for messages

    @property
    def kind(self) -> str:
        return "urls" if "/" in self.domain else "domains"


@dataclass(frozen=True, slots=True)
class Manifest:
    """What the package ships: the list files' checksums and the category names."""

    sha256: str
    categories: frozenset[str]
    files: Mapping[str, str]


def entry_problem(text: str) -> str | None:
    """Why `text` is not a valid supplement entry, or None if it is.

    Entries must already be in the importer's normal form (lower case, no scheme, no
    `www.`, no trailing dot or slash), so what the CSV says is exactly what is matched.
    """
    if not text:
        return "empty domain"
    url = "/" in text
    try:
        entry = parse_entry(text, url_list=url)
    except EntryError as error:
        return str(error)
    written = entry.host if entry.path is None else f"{entry.host}{entry.path}"
    if entry.notes or written != text:
        return f"not in normal form (the importer reads it as {written!r})"
    if is_ip(entry.host):
        return "an IP address, not a domain"
    if "." not in entry.host or not entry.host.rsplit(".", 1)[1].isalpha():
        return "not a public domain name (needs a dot and an alphabetic top-level label)"
    if entry.host.startswith("www."):
        return "starts with 'www.': list the domain itself (it covers its subdomains)"
    return None


def parse_source_csv(text: str, category: str, source: str) -> list[SourceRow]:
    """Parse one source CSV (pure). Raises SupplementError naming every bad row."""
    try:
        check_category_name(category)
    except CategoryNameError as error:
        raise SupplementError(f"{source}: {error}") from None
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff")))
    header = next(reader, None)
    if header is None or tuple(h.strip() for h in header) != CSV_HEADER:
        raise SupplementError(f"{source}:1: header must be {','.join(CSV_HEADER)}")
    rows: list[SourceRow] = []
    problems: list[str] = []
    for fields in reader:
        where = f"{source}:{reader.line_num}"
        if not any(field.strip() for field in fields):
            continue
        if len(fields) != len(CSV_HEADER):
            problems.append(f"{where}: expected {len(CSV_HEADER)} fields, got {len(fields)}")
            continue
        name, domain, register, reference = (field.strip() for field in fields)
        row = SourceRow(category, name, domain, register, reference, where)
        problems.extend(f"{where}: {problem}" for problem in _row_problems(row))
        rows.append(row)
    if problems:
        raise SupplementError("\n".join(problems))
    return rows


def check_rows(rows: Iterable[SourceRow]) -> None:
    """Cross-row rules: an entry appears once in its category and in one category only,
    and no domain sits below another category's domain (the supplement's categories are
    meant to be disjoint, so a site's category is unambiguous). Raises SupplementError
    naming every clash."""
    seen: dict[str, SourceRow] = {}
    problems: list[str] = []
    for row in rows:
        first = seen.setdefault(row.domain, row)
        if first is not row:
            clash = "twice" if first.category == row.category else f"also in {first.category!r}"
            problems.append(f"{row.where}: {row.domain} listed {clash} (first at {first.where})")
    for row in seen.values():
        host = row.domain.split("/", 1)[0]
        labels = host.split(".")
        parents = [".".join(labels[cut:]) for cut in range(int(host == row.domain), len(labels))]
        for parent in (seen[name] for name in parents if name in seen):
            if parent.category != row.category:
                problems.append(
                    f"{row.where}: {row.domain} is covered by {parent.domain} in "
                    f"{parent.category!r} ({parent.where})"
                )
    if problems:
        raise SupplementError("\n".join(problems))


def render_lists(rows: Iterable[SourceRow]) -> dict[str, bytes]:
    """The list files for `rows`: {"bank/domains": b"...", ...}, sorted and unique.
    A category always has a `domains` file; `urls` only when it has URL entries."""
    entries: dict[str, set[str]] = {}
    for row in rows:
        entries.setdefault(f"{row.category}/domains", set())
        entries.setdefault(f"{row.category}/{row.kind}", set()).add(row.domain)
    return {
        name: "".join(f"{entry}\n" for entry in sorted(found)).encode("ascii")
        for name, found in sorted(entries.items())
    }


def lists_digest(files: Mapping[str, bytes]) -> str:
    """One SHA-256 over every list file and its name (order-independent)."""
    listing = "".join(
        f"{hashlib.sha256(data).hexdigest()}  {name}\n" for name, data in sorted(files.items())
    )
    return hashlib.sha256(listing.encode("ascii")).hexdigest()


def make_manifest(files: Mapping[str, bytes], compiled: str) -> dict[str, Any]:
    """The manifest written beside the list files (`compiled`: ISO date of the sources)."""
    return {
        "lists": "UK supplement",
        "compiled": compiled,
        "sha256": lists_digest(files),
        "categories": sorted({name.split("/", 1)[0] for name in files}),
        "files": {name: hashlib.sha256(data).hexdigest() for name, data in sorted(files.items())},
        "entries": {name: data.count(b"\n") for name, data in sorted(files.items())},
        "licence": "Apache-2.0 (compiled by the webwarden authors; see README.md)",
    }


def load_sources(folder: Path) -> list[SourceRow]:
    """Read and check every `sources/<category>.csv` below `folder` (the supplement)."""
    paths = sorted((folder / SOURCES).glob("*.csv"))
    if not paths:
        raise SupplementError(f"{folder / SOURCES}: no <category>.csv files")
    rows: list[SourceRow] = []
    problems: list[str] = []
    for path in paths:
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            problems.append(f"{path}: not UTF-8")
            continue
        try:
            rows.extend(parse_source_csv(text, path.stem, str(path)))
        except SupplementError as error:
            problems.append(str(error))
    if problems:
        raise SupplementError("\n".join(problems))
    check_rows(rows)
    return rows


def read_lists(folder: Path | Traversable) -> dict[str, bytes]:
    """The list files present below `folder`: {"bank/domains": bytes, ...}."""
    files: dict[str, bytes] = {}
    for child in folder.iterdir():
        if not child.is_dir() or child.name == SOURCES:
            continue
        for kind in LIST_KINDS:
            member = child.joinpath(kind)
            if member.is_file():
                files[f"{child.name}/{kind}"] = member.read_bytes()
    return files


def read_manifest(folder: Path | Traversable) -> Manifest:
    """Parse `manifest.json` below `folder`; SupplementError if it is missing or malformed."""
    try:
        raw = json.loads(folder.joinpath(MANIFEST).read_text(encoding="utf-8"))
        return Manifest(
            sha256=str(raw["sha256"]),
            categories=frozenset(str(name) for name in raw["categories"]),
            files={str(name): str(digest) for name, digest in raw["files"].items()},
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
        raise SupplementError(f"{folder}/{MANIFEST}: unreadable ({error})") from None


@functools.cache
def shipped_manifest() -> Manifest:
    """The manifest of the supplement shipped in the package (read once)."""
    return read_manifest(_package_folder())


def import_supplement(folder: Path | Traversable | None = None) -> ImportResult:
    """Import the supplement's list files (default: the shipped ones), after checking
    them against the manifest. Any mismatch or rejected line is an error: the shipped
    supplement is all or nothing."""
    folder = folder if folder is not None else _package_folder()
    manifest = read_manifest(folder)
    try:
        files = {name: folder.joinpath(*name.split("/")).read_bytes() for name in manifest.files}
    except OSError as error:
        raise SupplementError(f"{folder}: a listed file is missing ({error})") from None
    if lists_digest(files) != manifest.sha256:
        raise SupplementError(f"{folder}: list files do not match {MANIFEST} (damaged?)")
    result = ImportResult(sources=[str(folder)])
    for name, data in sorted(files.items()):
        category, kind = name.split("/", 1)
        import_entry_lines(
            data.splitlines(keepends=True),
            f"{folder}/{name}",
            check_category_name(category),
            url_list=kind == "urls",
            result=result,
        )
    issues = [*result.rejected, *result.notices]
    if issues:
        raise SupplementError("\n".join(str(issue) for issue in issues))
    return result


def _row_problems(row: SourceRow) -> list[str]:
    problems: list[str] = []
    if not row.name:
        problems.append("empty name")
    problem = entry_problem(row.domain)
    if problem is not None:
        problems.append(f"{row.domain!r}: {problem}")
    if row.register not in REGISTERS:
        problems.append(f"register {row.register!r} is not one of {', '.join(sorted(REGISTERS))}")
    return problems


def _package_folder() -> Traversable:
    return resources.files("webwarden").joinpath(*_DATA)
