"""The compiled category snapshot: built once (snapshot_build), mapped read-only by every
process (Snapshot, here).

File layout (all integers little-endian; see docs/decisions/0002-category-snapshot.md):

    header   magic "WWCATIDX", format, section count, version digest, body digest
    sections name/offset/length table, then the sections, each 8-byte aligned:
      meta      JSON: category names, category-set table, single-label entries, counts
      dkeys     uint64[n]   sorted 64-bit keys of domain/IP entries (blake2b of the name)
      dvals     uint16/32[n] category-set id for each key
      dbuckets  uint32[2^b+1] start of each run of keys sharing their top b bits
      ukeys     uint64[m]   sorted keys of hosts that have URL entries
      uoffs     uint32[m+1] start of each host's records in ublob
      ublob     per host, lines "set-id TAB path LF"
      filter    bitmap, 2^f bits: bit crc32(name) mod 2^f set for every entry name and
                every host with URL entries
      info      JSON: provenance and build report (not part of the version)

The version is a digest of the sections from meta to ublob, so the same entries give
the same version wherever they came from. The body digest covers everything after the
header and is checked on open, so a corrupt or truncated file is refused.

A host is looked up by walking its suffixes (`a.b.example.com`, `b.example.com`,
`example.com`). Most suffixes are in no list, so each first meets the filter: one
crc32 and one bit, which rejects all but a few per cent of them (the filter has about
8 bits per name). A suffix that passes is hashed (blake2b, 64 bits), its bucket bounds
read and a handful of keys bisected in the mapped array. No per-entry Python objects
are created at load time, which keeps loading in milliseconds and memory to the pages
actually touched. 64-bit keys make a false match astronomically unlikely (about
n / 2^64 per lookup); two entries whose keys collide while building are merged, and
the build report counts them.
"""

from __future__ import annotations

import hashlib
import json
import mmap
import os
import struct
import sys
import zlib
from bisect import bisect_left
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from webwarden.categories.normalise import is_ip, strip_www_like
from webwarden.categories.snapshot_build import BuildReport, build_snapshot
from webwarden.categories.snapshot_format import (
    ALIGN,
    BODY_START,
    FORMAT_VERSION,
    HEADER,
    MAGIC,
    SECTION,
    SECTIONS,
    SnapshotError,
    SnapshotFormatError,
    UrlRules,
    entry_key,
)

__all__ = [
    "FORMAT_VERSION",
    "BuildReport",
    "Snapshot",
    "SnapshotError",
    "SnapshotFormatError",
    "UrlRules",
    "build_snapshot",
    "entry_key",
]

_DIGEST_CHUNK = 1 << 20
_ARRAY_CODES: dict[str, Literal["Q", "I", "H", "B"]] = {"Q": "Q", "I": "I", "H": "H", "B": "B"}


class Snapshot:
    """A snapshot file mapped read-only. Lookups take normalised hosts."""

    def __init__(self, path: Path, *, verify: bool = True) -> None:
        """Map `path`. With `verify` (the default) the body digest is checked, which
        reads the whole file once; the header and section table are always checked."""
        if sys.byteorder != "little":  # pragma: no cover - no such machine in use here
            raise SnapshotError("snapshots are little-endian; this machine is big-endian")
        self.path = path
        try:
            with path.open("rb") as file:
                stat = os.fstat(file.fileno())
                if stat.st_size < BODY_START:
                    raise SnapshotError(f"{path}: truncated or not a category snapshot")
                self._map = mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ)
        except FileNotFoundError:
            raise SnapshotError(f"{path}: no such snapshot (build one first)") from None
        except OSError as error:
            raise SnapshotError(f"{path}: cannot read ({error.strerror})") from None
        self.file_id = (stat.st_dev, stat.st_ino, stat.st_mtime_ns, stat.st_size)
        self.size = stat.st_size
        self._views: list[memoryview[int]] = []
        try:
            self._open(verify)
        except Exception:
            self.close()
            raise

    def _open(self, verify: bool) -> None:
        magic, fmt, count, version, body_digest = HEADER.unpack_from(self._map, 0)
        if magic != MAGIC:
            raise SnapshotError(f"{self.path}: not a webwarden category snapshot")
        if fmt != FORMAT_VERSION:
            raise SnapshotFormatError(
                f"{self.path}: snapshot format {fmt}, this release reads format "
                f"{FORMAT_VERSION}; rebuild it with `webwarden categories build`"
            )
        if count != len(SECTIONS):
            raise SnapshotError(f"{self.path}: corrupt section table")
        bounds: dict[bytes, tuple[int, int]] = {}
        for index, expected in enumerate(SECTIONS):
            name, offset, length = SECTION.unpack_from(
                self._map, HEADER.size + index * SECTION.size
            )
            if name.rstrip(b"\0") != expected or offset % ALIGN:
                raise SnapshotError(f"{self.path}: corrupt section table")
            if offset + length > self.size:
                raise SnapshotError(f"{self.path}: truncated (section {expected.decode()})")
            bounds[expected] = (offset, length)
        if verify and self._body_digest() != body_digest:
            raise SnapshotError(f"{self.path}: corrupt (checksum mismatch)")
        self.version: str = version.hex()[:16]
        try:
            meta = json.loads(self._section(bounds, b"meta"))
            self.info: dict[str, Any] = json.loads(self._section(bounds, b"info"))
            self.categories: tuple[str, ...] = tuple(meta["categories"])
            self._sets: list[frozenset[str]] = [
                frozenset(self.categories[i] for i in members) for members in meta["sets"]
            ]
            self.domains_per_category: dict[str, int] = dict(meta["domains"])
            self.urls_per_category: dict[str, int] = dict(meta["urls"])
            self._single_label = frozenset(n.encode("ascii") for n in meta["single_label"])
            bucket_bits = int(meta["bucket_bits"])
            filter_bits = int(meta["filter_bits"])
            value_code = str(meta["value_code"])
        except (ValueError, KeyError, TypeError, IndexError) as error:
            raise SnapshotError(f"{self.path}: corrupt metadata ({error})") from None
        self._shift = 64 - bucket_bits
        self._dkeys = self._array(bounds, b"dkeys", "Q")
        self._dvals = self._array(bounds, b"dvals", value_code)
        self._dbuckets = self._array(bounds, b"dbuckets", "I")
        self._ukeys = self._array(bounds, b"ukeys", "Q")
        self._uoffs = self._array(bounds, b"uoffs", "I")
        offset, length = bounds[b"ublob"]
        self._ublob = self._keep(memoryview(self._map)[offset : offset + length])
        self._filter = self._array(bounds, b"filter", "B")
        self._filter_mask = (1 << filter_bits) - 1
        if (
            len(self._dvals) != len(self._dkeys)
            or len(self._dbuckets) != (1 << bucket_bits) + 1
            or len(self._uoffs) != len(self._ukeys) + 1
            or not 3 <= filter_bits <= 40
            or len(self._filter) != 1 << (filter_bits - 3)
        ):
            raise SnapshotError(f"{self.path}: corrupt (table sizes disagree)")

    def _body_digest(self) -> bytes:
        # Read through the file rather than the mapping: the page cache serves it
        # without counting every page against this process's resident memory.
        digest = hashlib.blake2b(digest_size=32)
        with self.path.open("rb") as file:
            file.seek(BODY_START)
            while chunk := file.read(_DIGEST_CHUNK):
                digest.update(chunk)
        return digest.digest()

    def _section(self, bounds: Mapping[bytes, tuple[int, int]], name: bytes) -> bytes:
        offset, length = bounds[name]
        return self._map[offset : offset + length]

    def _array(
        self, bounds: Mapping[bytes, tuple[int, int]], name: bytes, code: str
    ) -> memoryview[int]:
        offset, length = bounds[name]
        if code not in _ARRAY_CODES or length % struct.calcsize(code):
            raise SnapshotError(f"{self.path}: corrupt section {name.decode()}")
        view = memoryview(self._map)[offset : offset + length]
        return self._keep(view.cast(_ARRAY_CODES[code]))

    def _keep(self, view: memoryview[int]) -> memoryview[int]:
        self._views.append(view)
        return view

    @property
    def provenance(self) -> dict[str, Any]:
        value = self.info.get("provenance", {})
        return value if isinstance(value, dict) else {}

    @property
    def domain_entries(self) -> int:
        return len(self._dkeys)

    @property
    def url_hosts(self) -> int:
        return len(self._ukeys)

    def lookup_host(self, host: str) -> tuple[frozenset[str], UrlRules]:
        """Everything the lists say about a normalised host, whatever the path: the
        union of the categories of every matching domain entry (the host and each
        parent domain; an IP address only itself), and the URL entries of the host and
        of its www-less form (see normalise.strip_www_like)."""
        data = host.encode("ascii")
        mask = self._filter_mask
        bitmap = self._filter
        single_label = self._single_label
        found: frozenset[str] | None = None
        rules: UrlRules = ()
        address = is_ip(host)
        if address:
            bare = -1
            last = 0  # an address has no parent domains
        else:
            bare = _bare_start(host) if host[0] in "wf" else -1
            last = len(data)
        start = 0
        while True:
            dot = data.find(b".", start, last)
            name = data[start:] if start else data
            # Single-label entries are rare: the top-level label is only probed if listed.
            if dot >= 0 or address or name in single_label:
                bit_index = zlib.crc32(name) & mask
                if bitmap[bit_index >> 3] >> (bit_index & 7) & 1:
                    key = entry_key(name)
                    set_id = self._find(key)
                    if set_id >= 0:
                        listed = self._sets[set_id]
                        found = listed if found is None else found | listed
                    if start in (0, bare):
                        rules += self._url_rules(key)
            if dot < 0:
                return (found if found is not None else _NOTHING), rules
            start = dot + 1

    def domain_categories(self, host: str) -> frozenset[str]:
        """Categories of the domain entries matching a normalised host."""
        return self.lookup_host(host)[0]

    def url_rules(self, host: str) -> UrlRules:
        """The URL entries of exactly `host` (normalised): (path, categories) pairs."""
        return self._url_rules(entry_key(host.encode("ascii")))

    def _find(self, key: int) -> int:
        bucket = key >> self._shift
        lo = self._dbuckets[bucket]
        hi = self._dbuckets[bucket + 1]
        index = bisect_left(self._dkeys, key, lo, hi)
        if index < hi and self._dkeys[index] == key:
            value: int = self._dvals[index]
            return value
        return -1

    def _url_rules(self, key: int) -> UrlRules:
        keys = self._ukeys
        index = bisect_left(keys, key)
        if index == len(keys) or keys[index] != key:
            return ()
        start, end = self._uoffs[index], self._uoffs[index + 1]
        rules = []
        for record in bytes(self._ublob[start:end]).decode().splitlines():
            set_id, _, path = record.partition("\t")
            rules.append((path, self._sets[int(set_id)]))
        return tuple(rules)

    def close(self) -> None:
        for view in self._views:
            view.release()
        self._views.clear()
        self._map.close()

    def __enter__(self) -> Snapshot:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


_NOTHING: frozenset[str] = frozenset()


def _bare_start(host: str) -> int:
    """Offset of the www-less form of `host` (strip_www_like), or -1."""
    bare = strip_www_like(host)
    return len(host) - len(bare) if bare is not None else -1
