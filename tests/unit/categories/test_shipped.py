"""The shipped lists and the default snapshot's life cycle (without the full UT1 build:
building from the shipped archive is replaced by a small fixture here; the real one
is exercised once in tests/integration/test_categories_cli.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.categories.samples import make_archive
from webwarden.categories import shipped
from webwarden.categories.importers import ImportResult, SourceError, import_ut1_dir
from webwarden.categories.snapshot import BuildReport, Snapshot, SnapshotError, build_snapshot
from webwarden.categories.update import install_archive

UT1_CATEGORIES = 37
UK_SUPPLEMENT_NEW_CATEGORIES = 3  # health, trade_unions, counselling


def _tiny_result() -> ImportResult:
    result = ImportResult(categories={"x"})
    result.add_domain("x", "x.example")
    return result


def test_shipped_names_come_from_the_manifest() -> None:
    names = shipped.shipped_category_names()
    assert len(names) == UT1_CATEGORIES + UK_SUPPLEMENT_NEW_CATEGORIES
    assert {"adult", "agressif", "drogue", "publicite", "gambling", "bank"} <= names
    assert "global_usage" not in names


@pytest.fixture
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ut1_dir: Path) -> list[Path]:
    """A private state dir; 'building the shipped lists' builds the small sample."""
    monkeypatch.setenv("WEBWARDEN_STATE_DIR", str(tmp_path / "state"))
    builds: list[Path] = []

    def fake_build(output: Path) -> tuple[BuildReport, ImportResult]:
        builds.append(output)
        result = import_ut1_dir(ut1_dir)
        return build_snapshot(result, output, provenance=shipped.shipped_provenance()), result

    monkeypatch.setattr(shipped, "build_shipped", fake_build)
    return builds


def test_state_dir_default(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("WEBWARDEN_STATE_DIR", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert shipped.default_snapshot_path() == (
        tmp_path / ".local" / "state" / "webwarden" / "categories" / "current.wwcat"
    )


def test_default_snapshot_is_built_once(state: list[Path]) -> None:
    with shipped.default_index() as index:
        assert index.lookup("www.casino.example") == {"gambling", "games"}
    with shipped.default_index():
        pass
    assert state == [shipped.default_snapshot_path()]
    assert shipped.default_index_path() == shipped.default_snapshot_path()


def test_rebuilt_when_the_shipped_archive_changed(state: list[Path]) -> None:
    path = shipped.default_snapshot_path()
    old = {**shipped.shipped_provenance(), "archive_sha256": "0" * 64}
    build_snapshot(_tiny_result(), path, provenance=old)
    shipped.ensure_default_snapshot()
    assert state == [path]


def test_rebuilt_when_written_in_another_format(state: list[Path]) -> None:
    path = shipped.default_snapshot_path()
    build_snapshot(_tiny_result(), path, provenance={"kind": "download"})
    content = bytearray(path.read_bytes())
    content[8] += 1  # format version
    path.write_bytes(bytes(content))
    shipped.ensure_default_snapshot()
    assert state == [path]


def test_downloaded_lists_are_kept(state: list[Path], tmp_path: Path, ut1_dir: Path) -> None:
    path = shipped.default_snapshot_path()
    path.parent.mkdir(parents=True)
    install_archive(make_archive(ut1_dir, tmp_path / "a.tar.gz"), source="http://lists/a.tgz")
    shipped.ensure_default_snapshot()
    assert state == []
    with Snapshot(path) as snapshot:
        assert snapshot.provenance["kind"] == "download"
        assert snapshot.provenance["url"] == "http://lists/a.tgz"


def test_corrupt_default_snapshot_is_an_error(state: list[Path]) -> None:
    path = shipped.default_snapshot_path()
    path.parent.mkdir(parents=True)
    path.write_bytes(b"garbage" * 100)
    with pytest.raises(SnapshotError, match="webwarden categories build"):
        shipped.default_index()
    assert state == []


def test_install_archive_checks_and_swaps(tmp_path: Path, ut1_dir: Path) -> None:
    target = tmp_path / "current.wwcat"
    archive = make_archive(ut1_dir, tmp_path / "a.tar.gz")
    report, result = install_archive(archive, source="a.tar.gz", target=target)
    assert report.path == target
    assert result.domains["games"] == {"casino.example", "games.example"}
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        ".build.lock",
        "a.tar.gz",
        "current.wwcat",
        "ut1",
    ]


def test_install_archive_failures_change_nothing(tmp_path: Path, ut1_dir: Path) -> None:
    target = tmp_path / "current.wwcat"
    build_snapshot(import_ut1_dir(ut1_dir), target)
    before = target.read_bytes()
    archive = make_archive(ut1_dir, tmp_path / "a.tar.gz")
    with pytest.raises(SourceError, match="SHA-256 is"):
        install_archive(archive, source="a", expected_sha256="ab" * 32, target=target)
    broken = tmp_path / "broken.tar.gz"
    broken.write_bytes(archive.read_bytes()[:200])
    with pytest.raises(SourceError):
        install_archive(broken, source="broken", target=target)
    empty_dir = tmp_path / "emptycat" / "cat"
    empty_dir.mkdir(parents=True)
    (empty_dir / "domains").write_text("")
    with pytest.raises(SourceError, match="no entries"):
        install_archive(
            make_archive(empty_dir.parent, tmp_path / "e.tar.gz"), source="e", target=target
        )
    assert target.read_bytes() == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".incoming")]
