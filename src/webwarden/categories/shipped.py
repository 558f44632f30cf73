"""The lists shipped inside the package (UT1 and the UK supplement), and the default
snapshot built from them.

The default snapshot lives in the state directory (`$WEBWARDEN_STATE_DIR`, by default
`~/.local/state/webwarden`) as `categories/current.wwcat`. It is built from the shipped
lists on first use and rebuilt when a new release ships a different UT1 archive or UK
supplement. Once
`webwarden categories update` has installed a downloaded UT1 archive there, that one
is kept (it is newer than anything shipped) until the next `update` or `build`, or
until a release that writes another snapshot format rebuilds it from its shipped lists.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from webwarden.categories.importers import ImportResult, SourceError, import_ut1_archive
from webwarden.categories.index import CategoryIndex, open_index
from webwarden.categories.snapshot import (
    BuildReport,
    Snapshot,
    SnapshotError,
    SnapshotFormatError,
    build_snapshot,
)
from webwarden.categories.uk_supplement import import_supplement, shipped_manifest

SNAPSHOT_NAME = "current.wwcat"
SHIPPED_KIND = "shipped"
_DATA = ("data", "ut1")


@dataclass(frozen=True, slots=True)
class ShippedLists:
    """What the package ships: the UT1 archive's checksum, the UK supplement's, and the
    category names of both."""

    sha256: str
    categories: frozenset[str]
    supplement_sha256: str = ""


def state_dir() -> Path:
    """Where webwarden keeps state between runs."""
    configured = os.environ.get("WEBWARDEN_STATE_DIR")
    if configured:
        return Path(configured)
    return Path.home() / ".local" / "state" / "webwarden"


def default_snapshot_path() -> Path:
    return state_dir() / "categories" / SNAPSHOT_NAME


@functools.cache
def shipped_lists() -> ShippedLists:
    manifest = json.loads(_data_file("manifest.json").read_text(encoding="utf-8"))
    supplement = shipped_manifest()
    return ShippedLists(
        str(manifest["sha256"]),
        frozenset(manifest["categories"]) | supplement.categories,
        supplement.sha256,
    )


def shipped_category_names() -> frozenset[str]:
    """Category names of the shipped lists (read from the manifests; nothing is unpacked)."""
    return shipped_lists().categories


def shipped_provenance() -> dict[str, Any]:
    lists = shipped_lists()
    return {
        "kind": SHIPPED_KIND,
        "lists": "UT1",
        "archive_sha256": lists.sha256,
        "supplement": "UK",
        "supplement_sha256": lists.supplement_sha256,
    }


def import_shipped() -> ImportResult:
    """Import the shipped UT1 archive and UK supplement, after checking each is the one
    its manifest names (the supplement adds UK domains to `bank` and `financial`, and the
    `health`, `trade_unions` and `counselling` categories)."""
    with resources.as_file(_data_file("ut1.tar.xz")) as archive:
        digest = hashlib.sha256()
        with archive.open("rb") as stream:
            while chunk := stream.read(1 << 20):
                digest.update(chunk)
        if digest.hexdigest() != shipped_lists().sha256:
            raise SourceError(f"{archive}: does not match its manifest (damaged installation?)")
        result = import_ut1_archive(archive)
    result.extend(import_supplement())
    return result


def build_shipped(output: Path) -> tuple[BuildReport, ImportResult]:
    result = import_shipped()
    return build_snapshot(result, output, provenance=shipped_provenance()), result


def ensure_default_snapshot() -> Path:
    """Return the default snapshot's path, building it from the shipped lists if it is
    missing or was built from a different shipped archive. Several processes starting
    at once build it only once (a lock file serialises them)."""
    path = default_snapshot_path()
    with build_lock(path.parent):
        if not _up_to_date(path):
            build_shipped(path)
    return path


def default_snapshot_is_current() -> bool:
    """Whether the default snapshot exists and needs no rebuilding (no build is started)."""
    return _up_to_date(default_snapshot_path())


def default_index_path() -> Path:
    """Path of the default snapshot, built first if needed (same as ensure_default_snapshot)."""
    return ensure_default_snapshot()


def default_index(overrides: Path | None = None) -> CategoryIndex:
    """The default category index (shipped lists, or the last `update`)."""
    return open_index(ensure_default_snapshot(), overrides)


@contextlib.contextmanager
def build_lock(folder: Path) -> Iterator[None]:
    """Exclusive lock held while the default snapshot is built or replaced."""
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / ".build.lock").open("a") as lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock.fileno(), fcntl.LOCK_UN)


def _up_to_date(path: Path) -> bool:
    if not path.exists():
        return False
    try:
        with Snapshot(path, verify=False) as snapshot:
            provenance = snapshot.provenance
    except SnapshotFormatError:
        return False  # written by another release: rebuild from the lists shipped with this one
    except SnapshotError as error:
        raise SnapshotError(
            f"{error}; run `webwarden categories build` to rebuild it from the shipped lists"
        ) from None
    if provenance.get("kind") != SHIPPED_KIND:
        return True
    lists = shipped_lists()
    return bool(
        provenance.get("archive_sha256") == lists.sha256
        and provenance.get("supplement_sha256") == lists.supplement_sha256
    )


def _data_file(name: str) -> Any:
    return resources.files("webwarden").joinpath(*_DATA, name)
