from __future__ import annotations

import shutil
import tarfile
from pathlib import Path

import pytest

from gatewaybench.squidguard import (
    build_db,
    decides_blocked,
    render_config,
    sample_blocked_host,
    unpack_lists,
)


def _write_lists(root: Path) -> None:
    for category, domains, urls in (
        ("gambling", "1.2.3.4\ncasino.example\nbet.example\n", "poker.example/rooms\n"),
        ("audio-video", "video.example\n", ""),
        ("shopping", "shop.example\n", ""),
    ):
        (root / category).mkdir(parents=True)
        (root / category / "domains").write_text(domains)
        (root / category / "urls").write_text(urls)


def test_config_has_one_destination_per_category_and_blocks_them_all() -> None:
    text = render_config(Path("/db"), Path("/log"),
                         {"audio-video": (True, False), "gambling": (True, True)},
                         "http://127.0.0.1:1/blocked")
    assert "dest audio_video {\n    domainlist audio-video/domains\n}" in text
    assert "urllist gambling/urls" in text
    assert "pass !audio_video !gambling all" in text
    assert "redirect http://127.0.0.1:1/blocked" in text


def test_sample_host_is_a_gambling_name_not_an_address(tmp_path: Path) -> None:
    _write_lists(tmp_path)
    assert sample_blocked_host(tmp_path) == "casino.example"
    assert sample_blocked_host(tmp_path / "shopping") is None


def test_lists_are_unpacked_from_a_tarball(tmp_path: Path) -> None:
    _write_lists(tmp_path / "src" / "ut1")
    tarball = tmp_path / "ut1.tar.xz"
    with tarfile.open(tarball, "w:xz") as tar:
        tar.add(tmp_path / "src" / "ut1", arcname="ut1")
    root = unpack_lists(tarball, tmp_path / "work")
    assert sample_blocked_host(root) == "casino.example"
    assert unpack_lists(tmp_path / "src", tmp_path / "unused") == tmp_path / "src"
    with pytest.raises(FileNotFoundError):
        unpack_lists(tmp_path / "missing.tar.xz", tmp_path / "work")


@pytest.mark.skipif(shutil.which("squidGuard") is None, reason="squidGuard not installed")
def test_built_database_blocks_listed_hosts_only(tmp_path: Path) -> None:
    _write_lists(tmp_path / "lists")
    db = build_db(tmp_path / "lists", tmp_path / "work", ("gambling", "audio-video", "nope"),
                  "http://127.0.0.1:1/blocked")
    assert db.categories == ("gambling", "audio-video")
    assert db.missing == ("nope",)
    assert (db.domains, db.urls) == (4, 1)
    assert decides_blocked(db, "http://www.casino.example/")
    assert decides_blocked(db, "http://poker.example/rooms/1")
    assert not decides_blocked(db, "http://shop.example/")
    assert not decides_blocked(db, "http://127.0.0.1:8080/1k")
