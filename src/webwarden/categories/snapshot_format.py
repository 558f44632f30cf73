"""The snapshot file format, shared by the writer (snapshot_build) and the reader
(snapshot): layout constants, entry keys, the filter hash, errors. The layout itself is
described in snapshot.py."""

from __future__ import annotations

import hashlib
import struct
import zlib

from webwarden.categories.errors import CategoryError

MAGIC = b"WWCATIDX"
FORMAT_VERSION = 1
HEADER = struct.Struct("<8sHH4x16s32s")  # magic, format, sections, version, body digest
SECTION = struct.Struct("<8sQQ")  # name, offset, length
SECTIONS = (
    b"meta", b"dkeys", b"dvals", b"dbuckets", b"ukeys", b"uoffs", b"ublob", b"filter", b"info",
)  # fmt: skip
VERSIONED = SECTIONS[:-2]  # the entries; not the filter (derived) nor the provenance
BODY_START = HEADER.size + SECTION.size * len(SECTIONS)
ALIGN = 8

UrlRules = tuple[tuple[str, frozenset[str]], ...]


class SnapshotError(CategoryError):
    """A snapshot file that cannot be used (missing, truncated, corrupt, foreign)."""


class SnapshotFormatError(SnapshotError):
    """A snapshot written in another format version (by another release)."""


def entry_key(name: bytes) -> int:
    """Stable 64-bit key of a normalised host, ASCII-encoded (the same in every process
    and release, unlike Python's hash())."""
    return int.from_bytes(hashlib.blake2b(name, digest_size=8).digest(), "little")


def filter_bit(name: bytes, mask: int) -> int:
    """The filter bit of a name: cheap to compute, unlike the key."""
    return zlib.crc32(name) & mask


def padded(length: int) -> int:
    """`length` rounded up to the section alignment."""
    return -(-length // ALIGN) * ALIGN
