"""squidGuard / UT1 lists: `<category>/domains` and `<category>/urls`, in a folder or in a
tar archive as UT1 publishes it (`blacklists/<category>/...`; a bare `<category>/...`
layout is accepted too). Large files may be split as `domains.0`, `domains.1`, ...

Files that are not `domains`/`urls` (UT1's `expressions`, `usage`, `global_usage`,
README, licence) are not entries and are skipped; category aliases (symbolic links
such as `ads -> publicite`) are reported and skipped, since their target is imported.
"""

from __future__ import annotations

import re
import tarfile
from pathlib import Path, PurePosixPath

from webwarden.categories.importers.lines import import_entry_lines
from webwarden.categories.importers.result import ImportResult, SourceError
from webwarden.categories.names import CategoryNameError, check_category_name

_LIST_FILE = re.compile(r"(domains|urls)(?:\.[0-9]+)?")
# How deep below the root a `<category>/domains` file may sit (`blacklists/adult/domains`).
_MAX_DEPTH = 3
DEFAULT_MAX_UNPACKED_BYTES = 2 * 1024**3


def import_ut1_dir(root: Path) -> ImportResult:
    """Import every `<category>/domains|urls` file below `root`."""
    if not root.is_dir():
        raise SourceError(f"{root}: not a folder")
    result = ImportResult(sources=[str(root)])
    files, aliases = _candidate_files(root)
    for alias in sorted(aliases):
        target = alias.resolve().name
        result.note(str(alias), 0, "", f"alias of {target!r}, not imported twice")
    found = False
    for path in sorted(files):
        kind = _LIST_FILE.fullmatch(path.name)
        if kind is None:
            continue
        category = _category_name(path.parent.name, str(path.parent), result)
        if category is None:
            continue
        found = True
        with path.open("rb") as stream:
            import_entry_lines(
                stream, str(path), category, url_list=kind.group(1) == "urls", result=result
            )
    if not found:
        raise SourceError(f"{root}: no <category>/domains or <category>/urls files found")
    return result


def import_ut1_archive(
    archive: Path, *, max_unpacked_bytes: int = DEFAULT_MAX_UNPACKED_BYTES
) -> ImportResult:
    """Import a UT1 tar archive (any compression tarfile knows), reading members as a
    stream: nothing is extracted to disk. Stops with SourceError past `max_unpacked_bytes`."""
    result = ImportResult(sources=[str(archive)])
    unpacked = 0
    found = False
    try:
        with tarfile.open(archive, "r:*") as tar:
            for member in tar:
                parts = PurePosixPath(member.name).parts
                kind = _LIST_FILE.fullmatch(parts[-1]) if len(parts) >= 2 else None
                if kind is None or len(parts) > _MAX_DEPTH + 1 or ".." in parts:
                    if member.issym() and len(parts) <= _MAX_DEPTH:
                        result.note(
                            f"{archive}:{member.name}",
                            0,
                            "",
                            f"alias of {member.linkname!r}, not imported twice",
                        )
                    continue
                source = f"{archive}:{member.name}"
                if not member.isfile():
                    result.note(source, 0, "", "not a regular file, skipped")
                    continue
                category = _category_name(parts[-2], source, result)
                if category is None:
                    continue
                unpacked += member.size
                if unpacked > max_unpacked_bytes:
                    raise SourceError(
                        f"{archive}: more than {max_unpacked_bytes} bytes of lists; refusing it"
                    )
                stream = tar.extractfile(member)
                if stream is None:  # pragma: no cover - isfile() members always have data
                    continue
                found = True
                with stream:
                    import_entry_lines(
                        stream, source, category, url_list=kind.group(1) == "urls", result=result
                    )
    except (tarfile.TarError, EOFError, OSError) as error:
        raise SourceError(f"{archive}: not a readable tar archive ({error})") from None
    if not found:
        raise SourceError(f"{archive}: no <category>/domains or <category>/urls files in it")
    return result


def _candidate_files(root: Path) -> tuple[list[Path], list[Path]]:
    """Files below `root` (not in it) up to _MAX_DEPTH levels, and symlinked folders."""
    files: list[Path] = []
    aliases: list[Path] = []
    level = [root]
    for _ in range(_MAX_DEPTH):
        next_level: list[Path] = []
        for folder in level:
            for child in folder.iterdir():
                if child.is_symlink() and child.is_dir():
                    aliases.append(child)
                elif child.is_dir():
                    next_level.append(child)
                elif child.is_file() and folder != root:
                    files.append(child)
        level = next_level
    return files, aliases


def _category_name(name: str, source: str, result: ImportResult) -> str | None:
    try:
        return check_category_name(name)
    except CategoryNameError as error:
        result.reject(source, 0, "", f"folder skipped: {error}")
        return None
