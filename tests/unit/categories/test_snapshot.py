"""Snapshot files: round trip, determinism, atomic replacement, refusal of bad files."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from webwarden.categories.importers import ImportResult, import_ut1_dir
from webwarden.categories.snapshot import (
    FORMAT_VERSION,
    Snapshot,
    SnapshotError,
    build_snapshot,
)


def _result(
    domains: dict[str, list[str]],
    urls: dict[str, list[tuple[str, str]]] | None = None,
) -> ImportResult:
    result = ImportResult()
    for category, hosts in domains.items():
        result.categories.add(category)
        for host in hosts:
            result.add_domain(category, host)
    for category, entries in (urls or {}).items():
        result.categories.add(category)
        for host, path in entries:
            result.add_url(category, host, path)
    return result


def test_round_trip(tmp_path: Path, ut1_dir: Path) -> None:
    result = import_ut1_dir(ut1_dir)
    report = build_snapshot(result, tmp_path / "s.wwcat", provenance={"kind": "test"})
    assert report.categories == ("adult", "bank", "gambling", "games", "publicite")
    assert report.overlaps == 1  # casino.example: gambling and games
    assert report.key_collisions == 0
    with Snapshot(tmp_path / "s.wwcat") as snapshot:
        assert snapshot.version == report.version
        assert snapshot.categories == report.categories
        assert snapshot.provenance == {"kind": "test"}
        assert snapshot.size == report.size == (tmp_path / "s.wwcat").stat().st_size
        assert snapshot.domain_categories("casino.example") == {"gambling", "games"}
        assert snapshot.domain_categories("a.b.pokerstars.com") == {"gambling"}
        assert snapshot.domain_categories("notpokerstars.com") == frozenset()
        assert snapshot.domain_categories("1.2.3.4") == {"gambling"}
        assert snapshot.domain_categories("5.1.2.3.4") == frozenset()
        assert snapshot.url_rules("example.org") == (
            ("/Adult", frozenset({"adult"})),
            ("/adult", frozenset({"adult"})),
            ("/casino", frozenset({"gambling"})),
        )
        assert snapshot.url_rules("other.example") == ()
        assert snapshot.domains_per_category["gambling"] == 5
        assert snapshot.urls_per_category["adult"] == 2


def test_empty_snapshot(tmp_path: Path) -> None:
    build_snapshot(_result({"empty": []}), tmp_path / "e.wwcat")
    with Snapshot(tmp_path / "e.wwcat") as snapshot:
        assert snapshot.categories == ("empty",)
        assert snapshot.domain_categories("example.com") == frozenset()
        assert snapshot.url_rules("example.com") == ()


def test_single_label_entries(tmp_path: Path) -> None:
    build_snapshot(_result({"tld": ["xxx", "example.com"]}), tmp_path / "t.wwcat")
    with Snapshot(tmp_path / "t.wwcat") as snapshot:
        assert snapshot.domain_categories("site.xxx") == {"tld"}
        assert snapshot.domain_categories("xxx") == {"tld"}
        assert snapshot.domain_categories("site.com") == frozenset()


def test_many_entries_use_buckets(tmp_path: Path) -> None:
    hosts = [f"host{i}.example" for i in range(5000)]
    build_snapshot(_result({"a": hosts[::2], "b": hosts[1::2]}), tmp_path / "m.wwcat")
    with Snapshot(tmp_path / "m.wwcat") as snapshot:
        for i in range(0, 5000, 7):
            expected = {"a"} if i % 2 == 0 else {"b"}
            assert snapshot.domain_categories(f"www.host{i}.example") == expected
        assert snapshot.domain_categories("host5000.example") == frozenset()


def test_version_depends_on_content_only(tmp_path: Path) -> None:
    first = build_snapshot(
        _result({"a": ["x.example", "y.example"], "b": ["z.example"]}),
        tmp_path / "1.wwcat",
        provenance={"kind": "one"},
    )
    second = build_snapshot(
        _result({"b": ["z.example"], "a": ["y.example", "x.example"]}),
        tmp_path / "2.wwcat",
        provenance={"kind": "two"},
    )
    third = build_snapshot(_result({"a": ["x.example"], "b": ["z.example"]}), tmp_path / "3.wwcat")
    assert first.version == second.version != third.version


def test_replacement_is_atomic_for_open_readers(tmp_path: Path) -> None:
    path = tmp_path / "s.wwcat"
    build_snapshot(_result({"old": ["x.example"]}), path)
    with Snapshot(path) as old:
        build_snapshot(_result({"new": ["x.example"]}), path)
        # The open mapping still sees the file it opened; a new open sees the new one.
        assert old.domain_categories("x.example") == {"old"}
        with Snapshot(path) as new:
            assert new.domain_categories("x.example") == {"new"}
    assert [p.name for p in tmp_path.iterdir()] == ["s.wwcat"]  # no temporary left


@pytest.fixture
def snapshot_bytes(tmp_path: Path, ut1_dir: Path) -> bytes:
    build_snapshot(import_ut1_dir(ut1_dir), tmp_path / "good.wwcat")
    return (tmp_path / "good.wwcat").read_bytes()


def _refused(tmp_path: Path, content: bytes, match: str, *, verify: bool = True) -> None:
    bad = tmp_path / "bad.wwcat"
    bad.write_bytes(content)
    with pytest.raises(SnapshotError, match=match):
        Snapshot(bad, verify=verify)


def test_corrupt_body_is_refused(tmp_path: Path, snapshot_bytes: bytes) -> None:
    flipped = bytearray(snapshot_bytes)
    flipped[-20] ^= 0x01
    _refused(tmp_path, bytes(flipped), "checksum mismatch")


def test_truncated_file_is_refused(tmp_path: Path, snapshot_bytes: bytes) -> None:
    _refused(tmp_path, snapshot_bytes[: len(snapshot_bytes) // 2], "truncated", verify=False)
    _refused(tmp_path, snapshot_bytes[:100], "truncated")
    _refused(tmp_path, b"", "truncated")


def test_foreign_file_is_refused(tmp_path: Path) -> None:
    _refused(tmp_path, b"%PDF-1.7" + bytes(1000), "not a webwarden category snapshot")


def test_other_format_version_is_refused(tmp_path: Path, snapshot_bytes: bytes) -> None:
    changed = bytearray(snapshot_bytes)
    struct.pack_into("<H", changed, 8, FORMAT_VERSION + 1)
    _refused(tmp_path, bytes(changed), "rebuild it")


def test_corrupt_section_table_is_refused(tmp_path: Path, snapshot_bytes: bytes) -> None:
    changed = bytearray(snapshot_bytes)
    changed[64:68] = b"xxxx"
    _refused(tmp_path, bytes(changed), "corrupt section table", verify=False)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SnapshotError, match="no such snapshot"):
        Snapshot(tmp_path / "missing.wwcat")
