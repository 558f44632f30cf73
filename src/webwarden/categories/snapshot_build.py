"""Compiling imported entries into a snapshot file (the format is described in
snapshot.py): category sets, sorted keys, buckets, the URL table, the filter, and an
atomic write."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import struct
import tempfile
from array import array
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from itertools import accumulate
from pathlib import Path
from typing import Any

from webwarden.categories.importers.result import ImportResult
from webwarden.categories.normalise import is_ip
from webwarden.categories.snapshot_format import (
    BODY_START,
    FORMAT_VERSION,
    HEADER,
    MAGIC,
    SECTION,
    SECTIONS,
    VERSIONED,
    entry_key,
    filter_bit,
    padded,
)

# Average keys per bucket: a bisect over ~8 keys costs about 3 comparisons.
_KEYS_PER_BUCKET = 8
# Filter bits per name (rounded up to a power of two): 8 to 16 bits let through 3 to 6 %
# of the names that are in no list, for 1 to 2 bytes per entry.
_FILTER_BITS_PER_NAME = 8
_MIN_FILTER_BITS = 16


@dataclass(frozen=True, slots=True)
class BuildReport:
    """What a build produced. `overlaps` counts names listed in two or more categories;
    `key_collisions` names whose 64-bit keys collided (merged; expected to be 0)."""

    path: Path
    version: str
    size: int
    categories: tuple[str, ...]
    domain_names: int
    url_hosts: int
    url_entries: int
    overlaps: int
    key_collisions: int
    domains_per_category: Mapping[str, int] = field(default_factory=dict)
    urls_per_category: Mapping[str, int] = field(default_factory=dict)


def build_snapshot(
    result: ImportResult, output: Path, *, provenance: Mapping[str, Any] | None = None
) -> BuildReport:
    """Compile `result` into a snapshot file at `output`, replacing it atomically."""
    categories = tuple(sorted(result.categories | result.domains.keys() | result.urls.keys()))
    bit = {name: 1 << index for index, name in enumerate(categories)}
    name_masks, url_masks = _category_masks(result, bit)
    overlaps = sum(1 for mask in name_masks.values() if mask & (mask - 1))
    single_label = sorted(n for n in (*name_masks, *url_masks) if "." not in n and not is_ip(n))
    filter_bits, bitmap = _filter(name_masks, url_masks)
    key_masks = _key_masks(name_masks)
    collisions = len(name_masks) - len(key_masks)
    domain_names = len(name_masks)
    del name_masks

    all_masks = set(key_masks.values())
    for paths in url_masks.values():
        all_masks.update(paths.values())
    set_masks = sorted(all_masks)
    set_id = {mask: index for index, mask in enumerate(set_masks)}
    value_code = "H" if len(set_masks) <= 0xFFFF else "I"

    dkeys = sorted(key_masks)
    dvals = array(value_code, [set_id[key_masks[key]] for key in dkeys])
    del key_masks
    bucket_bits = (len(dkeys) // _KEYS_PER_BUCKET).bit_length()
    ukeys, uoffs, blob, url_collisions = _url_table(url_masks, set_id)

    domains_per_category = {c: len(result.domains.get(c, ())) for c in categories}
    urls_per_category = {c: len(result.urls.get(c, ())) for c in categories}
    meta = {
        "categories": categories,
        "sets": [[i for i in range(len(categories)) if mask >> i & 1] for mask in set_masks],
        "single_label": single_label,
        "bucket_bits": bucket_bits,
        "filter_bits": filter_bits,
        "value_code": value_code,
        "domains": domains_per_category,
        "urls": urls_per_category,
    }
    build = {
        "domain_names": domain_names,
        "url_hosts": len(url_masks),
        "url_entries": result.url_entries,
        "overlaps": overlaps,
        "key_collisions": collisions + url_collisions,
    }
    sections = {
        b"meta": _json_bytes(meta),
        b"dkeys": array("Q", dkeys).tobytes(),
        b"dvals": dvals.tobytes(),
        b"dbuckets": _bucket_starts(dkeys, bucket_bits).tobytes(),
        b"ukeys": ukeys.tobytes(),
        b"uoffs": uoffs.tobytes(),
        b"ublob": bytes(blob),
        b"filter": bytes(bitmap),
        b"info": _json_bytes({"provenance": dict(provenance or {}), "build": build}),
    }
    version, size = _write_atomically(output, sections)
    return BuildReport(
        path=output,
        version=version,
        size=size,
        categories=categories,
        domain_names=domain_names,
        url_hosts=len(url_masks),
        url_entries=result.url_entries,
        overlaps=overlaps,
        key_collisions=collisions + url_collisions,
        domains_per_category=domains_per_category,
        urls_per_category=urls_per_category,
    )


def _category_masks(
    result: ImportResult, bit: Mapping[str, int]
) -> tuple[dict[str, int], dict[str, dict[str, int]]]:
    """Each domain name's categories, and each URL host's paths' categories, as bitmasks."""
    name_masks: dict[str, int] = {}
    for category, hosts in result.domains.items():
        category_bit = bit[category]
        for host in hosts:
            name_masks[host] = name_masks.get(host, 0) | category_bit
    url_masks: dict[str, dict[str, int]] = {}
    for category, entries in result.urls.items():
        category_bit = bit[category]
        for host, path in entries:
            paths = url_masks.setdefault(host, {})
            paths[path] = paths.get(path, 0) | category_bit
    return name_masks, url_masks


def _filter(
    name_masks: Mapping[str, int], url_masks: Mapping[str, object]
) -> tuple[int, bytearray]:
    """The filter bitmap over every domain name and URL host, and its size in bits (log2)."""
    names = len(name_masks) + len(url_masks)
    bits = max(_MIN_FILTER_BITS, (names * _FILTER_BITS_PER_NAME - 1).bit_length())
    mask = (1 << bits) - 1
    bitmap = bytearray(1 << (bits - 3))
    for name in (*name_masks, *url_masks):
        index = filter_bit(name.encode("ascii"), mask)
        bitmap[index >> 3] |= 1 << (index & 7)
    return bits, bitmap


def _key_masks(name_masks: Mapping[str, int]) -> dict[int, int]:
    """Masks by 64-bit key; names whose keys collide are merged."""
    key_masks: dict[int, int] = {}
    for name, mask in name_masks.items():
        key = entry_key(name.encode("ascii"))
        key_masks[key] = key_masks.get(key, 0) | mask
    return key_masks


def _url_table(
    url_masks: Mapping[str, Mapping[str, int]], set_id: Mapping[int, int]
) -> tuple[array[int], array[int], bytearray, int]:
    """Sorted host keys, offsets into the record blob, the blob, and key collisions."""
    keyed = sorted((entry_key(host.encode("ascii")), host) for host in url_masks)
    collisions = len(keyed) - len({key for key, _ in keyed})
    keys = array("Q")
    offsets = array("I", [0])
    blob = bytearray()
    for key, host in keyed:
        if keys and keys[-1] == key:
            offsets.pop()  # colliding host: its records join the previous host's
        else:
            keys.append(key)
        for path, mask in sorted(url_masks[host].items()):
            blob += f"{set_id[mask]}\t{path}\n".encode()
        offsets.append(len(blob))
    return keys, offsets, blob, collisions


def _json_bytes(value: Mapping[str, Any]) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":")).encode()


def _bucket_starts(sorted_keys: list[int], bits: int) -> array[int]:
    """starts[b] = index of the first key whose top `bits` bits are >= b."""
    shift = 64 - bits
    per_bucket = Counter(key >> shift for key in sorted_keys)
    counts = [0] * ((1 << bits) + 1)
    for bucket, count in per_bucket.items():
        counts[bucket + 1] = count
    return array("I", accumulate(counts))


def _write_atomically(output: Path, sections: Mapping[bytes, bytes]) -> tuple[str, int]:
    """Write header and sections to a temporary file beside `output`, then rename it over
    `output`: readers see the old file or the new one, never a half-written one."""
    table = []
    offset = BODY_START
    for name in SECTIONS:
        table.append(SECTION.pack(name, offset, len(sections[name])))
        offset += padded(len(sections[name]))
    version_digest = hashlib.blake2b(digest_size=16)
    for name in VERSIONED:
        version_digest.update(struct.pack("<Q", len(sections[name])))
        version_digest.update(sections[name])
    padding = {name: bytes(padded(len(data)) - len(data)) for name, data in sections.items()}
    body_digest = hashlib.blake2b(digest_size=32)
    for name in SECTIONS:
        body_digest.update(sections[name])
        body_digest.update(padding[name])
    header = HEADER.pack(
        MAGIC, FORMAT_VERSION, len(SECTIONS), version_digest.digest(), body_digest.digest()
    )
    output.parent.mkdir(parents=True, exist_ok=True)
    handle, temp_name = tempfile.mkstemp(prefix=f".{output.name}.", dir=output.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(header)
            out.write(b"".join(table))
            for name in SECTIONS:
                out.write(sections[name])
                out.write(padding[name])
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temp_name, 0o644)
        os.replace(temp_name, output)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp_name)
        raise
    return version_digest.hexdigest()[:16], offset
