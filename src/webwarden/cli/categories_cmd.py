"""`webwarden categories`: build, inspect, query and update the category snapshot.

    webwarden categories build [--source ut1:DIR|ARCHIVE] [--hosts FILE:CAT] [--list FILE:CAT]
                               [--output FILE] [--overrides FILE] [--rejections FILE] [--strict]
    webwarden categories stats [--snapshot FILE]
    webwarden categories lookup [--snapshot FILE] [--overrides FILE] URL... | -
    webwarden categories update URL [--sha256 HEX] [--max-bytes N] [--timeout SECONDS]

Without --snapshot/--output the default snapshot is used (built from the shipped UT1
lists on first use). Errors go to stderr; `lookup` keeps going past a bad URL and
exits with 1 at the end; other commands exit with 1 and change nothing.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, TextIO

from webwarden.categories.errors import CategoryError
from webwarden.categories.importers import (
    ImportResult,
    LineIssue,
    import_hosts_file,
    import_plain_list,
    import_ut1_archive,
    import_ut1_dir,
)
from webwarden.categories.index import CategoryIndex, open_index
from webwarden.categories.names import CategoryNameError, check_category_name
from webwarden.categories.normalise import HostError
from webwarden.categories.overrides import load_overrides
from webwarden.categories.shipped import (
    build_lock,
    default_snapshot_path,
    ensure_default_snapshot,
    import_shipped,
    shipped_provenance,
)
from webwarden.categories.snapshot import BuildReport, Snapshot, build_snapshot
from webwarden.categories.update import install_archive

DEFAULT_MAX_DOWNLOAD = 512 * 1024 * 1024
DEFAULT_TIMEOUT = 60.0
_EXAMPLES_PER_REASON = 3


class _CommandError(Exception):
    """A usage problem the user can fix; printed without a traceback."""


def register(sub: argparse._SubParsersAction[Any]) -> None:
    """Add `webwarden categories ...` to the `webwarden` parser."""
    group = sub.add_parser("categories", help="category lists: build, stats, lookup, update")
    commands = group.add_subparsers(dest="categories_command", required=True, metavar="COMMAND")

    build = commands.add_parser("build", help="compile lists into a snapshot")
    build.add_argument(
        "--source",
        action="append",
        default=[],
        metavar="ut1:PATH",
        help="a UT1/squidGuard folder or tar archive (repeatable)",
    )
    build.add_argument(
        "--hosts",
        action="append",
        default=[],
        metavar="FILE:CATEGORY",
        help="a hosts-format file, all names in CATEGORY (repeatable)",
    )
    build.add_argument(
        "--list",
        action="append",
        default=[],
        metavar="FILE:CATEGORY",
        help="a plain list, one entry per line (repeatable)",
    )
    build.add_argument("--output", type=Path, help="snapshot to write (default: the default one)")
    build.add_argument("--overrides", type=Path, help="check this override file against the lists")
    build.add_argument(
        "--rejections",
        type=Path,
        help="write every rejected and adjusted line here (tab-separated)",
    )
    build.add_argument(
        "--strict", action="store_true", help="write nothing if any line was rejected"
    )
    build.set_defaults(handler=_guarded(_build))

    stats = commands.add_parser("stats", help="show what a snapshot holds")
    stats.add_argument("--snapshot", type=Path, help="snapshot file (default: the default one)")
    stats.set_defaults(handler=_guarded(_stats))

    lookup = commands.add_parser("lookup", help="print the categories of URLs")
    lookup.add_argument("urls", nargs="+", metavar="URL", help="URLs or hosts; '-' reads stdin")
    lookup.add_argument("--snapshot", type=Path, help="snapshot file (default: the default one)")
    lookup.add_argument("--overrides", type=Path, help="local override file")
    lookup.add_argument(
        "--flush",
        action="store_true",
        help="flush after every answer (when driven line by line by a program)",
    )
    lookup.set_defaults(handler=_guarded(_lookup))

    update = commands.add_parser("update", help="download a UT1 archive and install it")
    update.add_argument("url", help="http(s) URL of a UT1 tar archive (blacklists.tar.gz)")
    update.add_argument("--sha256", help="expected SHA-256 of the archive")
    update.add_argument(
        "--max-bytes",
        type=int,
        default=DEFAULT_MAX_DOWNLOAD,
        help=f"refuse larger downloads (default {DEFAULT_MAX_DOWNLOAD})",
    )
    update.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        help=f"network timeout in seconds (default {DEFAULT_TIMEOUT:g})",
    )
    update.add_argument(
        "--snapshot", type=Path, help="snapshot to replace (default: the default one)"
    )
    update.set_defaults(handler=_guarded(_update))


Handler = Callable[[argparse.Namespace], int]


def _guarded(command: Handler) -> Handler:
    """Turn expected failures into one clear line on stderr and exit status 1."""

    def run(args: argparse.Namespace) -> int:
        try:
            return command(args)
        except BrokenPipeError:
            raise  # the reader went away (`| head`): not an error worth a message
        except (CategoryError, _CommandError, CategoryNameError, OSError) as error:
            print(
                f"webwarden categories {args.categories_command}: error: {error}", file=sys.stderr
            )
            return 1

    return run


# build ---------------------------------------------------------------------------------


def _build(args: argparse.Namespace) -> int:
    overrides = load_overrides(args.overrides) if args.overrides else None
    output: Path = args.output or default_snapshot_path()
    sources = [*args.source, *args.hosts, *args.list]
    if not sources:
        result = import_shipped()
        provenance = shipped_provenance()
    else:
        result = ImportResult()
        for item in args.source:
            result.extend(_import_ut1_option(item))
        for item in args.hosts:
            path, category = _file_and_category(item, "--hosts")
            result.extend(import_hosts_file(path, category))
        for item in args.list:
            path, category = _file_and_category(item, "--list")
            result.extend(import_plain_list(path, category))
        provenance = {"kind": "build", "sources": sources}
    _print_import(result, sys.stdout)
    if args.rejections:
        _write_issues(args.rejections, result)
    if args.strict and result.rejected:
        raise _CommandError(f"{len(result.rejected)} lines rejected; nothing written (--strict)")
    if overrides is not None:
        overrides.check_known(result.categories | result.domains.keys() | result.urls.keys())
        print(f"overrides {overrides.source}: {len(overrides.entries)} entries, valid")
    with build_lock(output.parent) if args.output is None else contextlib.nullcontext():
        report = build_snapshot(result, output, provenance=provenance)
    _print_report(report, sys.stdout)
    return 0


def _import_ut1_option(item: str) -> ImportResult:
    kind, sep, location = item.partition(":")
    if not sep or kind != "ut1" or not location:
        raise _CommandError(f"--source {item!r}: expected ut1:PATH (a folder or a tar archive)")
    path = Path(location)
    if path.is_dir():
        return import_ut1_dir(path)
    if path.is_file():
        return import_ut1_archive(path)
    raise _CommandError(f"--source {item!r}: {path} does not exist")


def _file_and_category(item: str, option: str) -> tuple[Path, str]:
    location, sep, category = item.rpartition(":")
    if not sep or not location:
        raise _CommandError(f"{option} {item!r}: expected FILE:CATEGORY")
    try:
        check_category_name(category)
    except CategoryNameError as error:
        raise _CommandError(f"{option} {item!r}: {error}") from None
    return Path(location), category


def _print_import(result: ImportResult, out: TextIO) -> None:
    print(
        f"read {result.lines:,} lines from {len(result.sources)} source(s): "
        f"{result.domain_entries:,} domain entries, {result.url_entries:,} URL entries, "
        f"{result.duplicates:,} duplicates merged, {len(result.rejected):,} lines rejected",
        file=out,
    )
    _print_issues("rejected", result.rejected, out)
    _print_issues("adjusted", result.notices, out)


def _print_issues(title: str, issues: list[LineIssue], out: TextIO) -> None:
    if not issues:
        return
    by_reason: dict[str, list[LineIssue]] = {}
    for issue in issues:
        by_reason.setdefault(issue.reason, []).append(issue)
    print(f"{title}: {len(issues):,}", file=out)
    for reason, group in sorted(by_reason.items(), key=lambda item: -len(item[1])):
        print(f"  {len(group):>9,}  {reason}", file=out)
        for issue in group[:_EXAMPLES_PER_REASON]:
            print(f"             e.g. {issue}", file=out)


def _write_issues(path: Path, result: ImportResult) -> None:
    with path.open("w", encoding="utf-8") as out:
        out.write("kind\tsource\tline\treason\ttext\n")
        for kind, issues in (("rejected", result.rejected), ("adjusted", result.notices)):
            for issue in issues:
                text = issue.text.replace("\t", " ")
                out.write(f"{kind}\t{issue.source}\t{issue.line}\t{issue.reason}\t{text}\n")


def _print_report(report: BuildReport, out: TextIO) -> None:
    print(
        f"wrote {report.path}: version {report.version}, {len(report.categories)} categories, "
        f"{report.domain_names:,} domain names ({report.overlaps:,} in several categories), "
        f"{report.url_entries:,} URL entries on {report.url_hosts:,} hosts, "
        f"{report.size:,} bytes",
        file=out,
    )
    if report.key_collisions:
        print(f"note: {report.key_collisions} entries share a 64-bit key and were merged", file=out)


# stats ---------------------------------------------------------------------------------


def _stats(args: argparse.Namespace) -> int:
    path: Path = args.snapshot or ensure_default_snapshot()
    with Snapshot(path) as snapshot:
        provenance = snapshot.provenance
        out = sys.stdout
        print(f"snapshot  {path}", file=out)
        print(f"version   {snapshot.version}", file=out)
        print(f"source    {_describe_provenance(provenance)}", file=out)
        print(f"size      {snapshot.size:,} bytes", file=out)
        print(file=out)
        width = max([len("category"), *(len(c) for c in snapshot.categories)])
        print(f"{'category':<{width}}  {'domains':>10}  {'urls':>8}", file=out)
        for category in snapshot.categories:
            domains = snapshot.domains_per_category.get(category, 0)
            urls = snapshot.urls_per_category.get(category, 0)
            print(f"{category:<{width}}  {domains:>10,}  {urls:>8,}", file=out)
        total_domains = sum(snapshot.domains_per_category.values())
        total_urls = sum(snapshot.urls_per_category.values())
        print(f"{'total':<{width}}  {total_domains:>10,}  {total_urls:>8,}", file=out)
        print(
            f"\n{len(snapshot.categories)} categories; {snapshot.domain_entries:,} distinct "
            f"domain names; {snapshot.url_hosts:,} hosts with URL entries",
            file=out,
        )
    return 0


def _describe_provenance(provenance: dict[str, Any]) -> str:
    kind = provenance.get("kind")
    if kind == "shipped":
        return f"shipped UT1 lists (archive sha256 {provenance.get('archive_sha256', '?')})"
    if kind == "download":
        return (
            f"UT1 archive from {provenance.get('url')} (sha256 {provenance.get('archive_sha256')})"
        )
    if kind == "build":
        return "built from " + ", ".join(map(str, provenance.get("sources", [])))
    return "unknown"


# lookup --------------------------------------------------------------------------------


def _lookup(args: argparse.Namespace) -> int:
    snapshot: Path = args.snapshot or ensure_default_snapshot()
    failed = 0
    with open_index(snapshot, args.overrides) as index:
        out = sys.stdout
        for url in _lookup_inputs(args.urls):
            answer = _answer(index, url)
            if answer is None:
                failed += 1
                continue
            out.write(f"{url}\t{answer}\n")
            if args.flush:
                out.flush()
    if failed:
        print(
            f"webwarden categories lookup: {failed} URL(s) could not be looked up", file=sys.stderr
        )
    return 1 if failed else 0


def _lookup_inputs(arguments: Iterable[str]) -> Iterator[str]:
    for argument in arguments:
        if argument == "-":
            for line in sys.stdin:
                url = line.rstrip("\r\n")
                if url.strip():
                    yield url
        else:
            yield argument


def _answer(index: CategoryIndex, url: str) -> str | None:
    try:
        categories = index.lookup_url(url)
    except HostError as error:
        print(f"webwarden categories lookup: {url}: {error.reason}", file=sys.stderr)
        return None
    return ",".join(sorted(categories)) or "none"


# update --------------------------------------------------------------------------------


def _update(args: argparse.Namespace) -> int:
    target: Path = args.snapshot or default_snapshot_path()
    target.parent.mkdir(parents=True, exist_ok=True)
    previous = _current_version(target)
    with _downloaded(args.url, target.parent, args.max_bytes, args.timeout) as archive:
        report, result = install_archive(
            archive, source=args.url, expected_sha256=args.sha256, target=target
        )
    _print_import(result, sys.stdout)
    _print_report(report, sys.stdout)
    replaced = f" (replacing version {previous})" if previous else ""
    print(f"installed {target}{replaced}")
    return 0


def _current_version(path: Path) -> str | None:
    try:
        with Snapshot(path, verify=False) as snapshot:
            return snapshot.version
    except CategoryError:
        return None


@contextlib.contextmanager
def _downloaded(url: str, folder: Path, max_bytes: int, timeout: float) -> Iterator[Path]:
    """Stream `url` into a temporary file in `folder` (same file system as the snapshot),
    refusing anything larger than `max_bytes`; the file is removed afterwards."""
    if not url.lower().startswith(("http://", "https://")):
        raise _CommandError(f"{url}: only http:// and https:// URLs can be downloaded")
    handle, name = tempfile.mkstemp(prefix=".download-", dir=folder)
    try:
        with os.fdopen(handle, "wb") as out:
            _fetch(url, out, max_bytes, timeout)
        yield Path(name)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(name)


def _fetch(url: str, out: Any, max_bytes: int, timeout: float) -> None:
    request = urllib.request.Request(url, headers={"User-Agent": "webwarden-categories"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            declared = response.headers.get("Content-Length")
            if declared and declared.isdigit() and int(declared) > max_bytes:
                raise _CommandError(
                    f"{url}: {int(declared):,} bytes is over --max-bytes {max_bytes:,}"
                )
            received = 0
            while chunk := response.read(1 << 16):
                received += len(chunk)
                if received > max_bytes:
                    raise _CommandError(f"{url}: larger than --max-bytes {max_bytes:,}; refused")
                out.write(chunk)
    except urllib.error.HTTPError as error:
        raise _CommandError(f"{url}: download failed: HTTP {error.code} {error.reason}") from None
    except urllib.error.URLError as error:
        raise _CommandError(f"{url}: download failed: {error.reason}") from None
    except (TimeoutError, OSError) as error:
        raise _CommandError(f"{url}: download failed: {error}") from None
