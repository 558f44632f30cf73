"""Installing a downloaded UT1 archive as the default snapshot, all or nothing.

The download itself happens at the edge (the CLI); this module takes the archive file,
checks it, imports it, builds the new snapshot beside the current one, opens it to be
sure, and only then renames it over the current one. Any failure leaves the current
snapshot untouched.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from dataclasses import replace
from pathlib import Path

from webwarden.categories.importers import ImportResult, SourceError, import_ut1_archive
from webwarden.categories.importers.ut1 import DEFAULT_MAX_UNPACKED_BYTES
from webwarden.categories.shipped import build_lock, default_snapshot_path
from webwarden.categories.snapshot import BuildReport, Snapshot, build_snapshot
from webwarden.categories.uk_supplement import import_supplement


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def install_archive(
    archive: Path,
    *,
    source: str,
    expected_sha256: str | None = None,
    target: Path | None = None,
    max_unpacked_bytes: int = DEFAULT_MAX_UNPACKED_BYTES,
) -> tuple[BuildReport, ImportResult]:
    """Import `archive` and make it the snapshot at `target` (default: the default
    snapshot). Raises SourceError/SnapshotError and changes nothing on failure."""
    target = target or default_snapshot_path()
    actual = file_sha256(archive)
    if expected_sha256 is not None and actual != expected_sha256.lower():
        raise SourceError(
            f"{source}: SHA-256 is {actual}, expected {expected_sha256.lower()}; not installed"
        )
    result = import_ut1_archive(archive, max_unpacked_bytes=max_unpacked_bytes)
    if result.domain_entries + result.url_entries == 0:
        raise SourceError(f"{source}: the archive holds no entries; not installed")
    # UT1 has no UK never-decrypt lists: a downloaded UT1 must not drop the supplement's.
    result.extend(import_supplement())
    provenance = {"kind": "download", "lists": "UT1", "url": source, "archive_sha256": actual}
    incoming = target.with_name(f".incoming-{os.getpid()}-{target.name}")
    with build_lock(target.parent):
        try:
            report = build_snapshot(result, incoming, provenance=provenance)
            with Snapshot(incoming, verify=True):
                pass
            os.replace(incoming, target)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(incoming)
    return replace(report, path=target), result
