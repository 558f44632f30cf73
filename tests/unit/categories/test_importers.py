"""Importers: UT1 folders and archives, hosts files, plain lists, and their reports."""

from __future__ import annotations

import tarfile
from pathlib import Path

import pytest

from tests.unit.categories.samples import make_archive
from webwarden.categories.importers import (
    ImportResult,
    SourceError,
    import_hosts_file,
    import_plain_list,
    import_ut1_archive,
    import_ut1_dir,
)
from webwarden.categories.names import CategoryNameError


def _check_sample(result: ImportResult) -> None:
    assert result.categories == {"gambling", "games", "adult", "bank", "publicite"}
    assert result.domains["gambling"] == {
        "pokerstars.com",
        "casino.example",
        "1.2.3.4",
        "xn--bcher-kva.de",
        "_under.example",
    }
    assert result.domains["games"] == {"casino.example", "games.example"}
    assert result.domains["publicite"] == {"ads.example", "tracker.example"}
    assert result.urls["gambling"] == {("example.org", "/casino"), ("news.example", "/poker")}
    assert result.urls["adult"] == {("example.org", "/adult"), ("example.org", "/Adult")}
    assert result.duplicates == 1  # CASINO.example
    [rejected] = result.rejected
    assert rejected.source.endswith("gambling/domains")
    assert rejected.line == 9
    assert rejected.text == "bad host.example"
    assert "whitespace" in rejected.reason
    reasons = result.notice_reasons()
    assert reasons["fragment removed (browsers never send it)"] == 1


def test_ut1_folder(ut1_dir: Path) -> None:
    result = import_ut1_dir(ut1_dir)
    _check_sample(result)
    [alias] = [n for n in result.notices if "alias" in n.reason]
    assert alias.source.endswith("ads")
    assert "publicite" in alias.reason


def test_ut1_archive_blacklists_layout(ut1_archive: Path) -> None:
    result = import_ut1_archive(ut1_archive)
    _check_sample(result)
    assert any("alias" in n.reason for n in result.notices)


def test_ut1_archive_bare_layout(tmp_path: Path, ut1_dir: Path) -> None:
    archive = tmp_path / "bare.tar"
    with tarfile.open(archive, "w") as tar:
        for child in sorted(ut1_dir.iterdir()):
            tar.add(child, arcname=child.name)
    _check_sample(import_ut1_archive(archive))


def test_ut1_folder_containing_blacklists_folder(tmp_path: Path, ut1_dir: Path) -> None:
    outer = tmp_path / "outer"
    outer.mkdir()
    ut1_dir.rename(outer / "blacklists")
    _check_sample(import_ut1_dir(outer))


def test_archive_size_cap(ut1_archive: Path) -> None:
    with pytest.raises(SourceError, match="refusing"):
        import_ut1_archive(ut1_archive, max_unpacked_bytes=10)


@pytest.mark.parametrize("content", [b"", b"not a tar archive at all", b"\x1f\x8b\x08broken"])
def test_broken_archive(tmp_path: Path, content: bytes) -> None:
    archive = tmp_path / "broken.tar.gz"
    archive.write_bytes(content)
    with pytest.raises(SourceError, match=r"not a readable tar archive|no <category>"):
        import_ut1_archive(archive)


def test_archive_without_lists(tmp_path: Path) -> None:
    folder = tmp_path / "empty"
    (folder / "docs").mkdir(parents=True)
    (folder / "docs" / "README").write_text("hi")
    with pytest.raises(SourceError, match="no <category>"):
        import_ut1_archive(make_archive(folder, tmp_path / "x.tar.gz"))


def test_missing_or_empty_folder(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="not a folder"):
        import_ut1_dir(tmp_path / "missing")
    with pytest.raises(SourceError, match="no <category>"):
        import_ut1_dir(tmp_path)


def test_badly_named_category_folder_is_reported(tmp_path: Path) -> None:
    (tmp_path / "Bad Name").mkdir()
    (tmp_path / "Bad Name" / "domains").write_text("x.example\n")
    (tmp_path / "good").mkdir()
    (tmp_path / "good" / "domains").write_text("y.example\n")
    result = import_ut1_dir(tmp_path)
    assert result.categories == {"good"}
    [rejected] = result.rejected
    assert "Bad Name" in rejected.source
    assert "bad category name" in rejected.reason


def test_undecodable_and_overlong_lines(tmp_path: Path) -> None:
    (tmp_path / "cat").mkdir()
    (tmp_path / "cat" / "domains").write_bytes(
        b"ok.example\n\xff\xfe.example\n" + b"a" * 5000 + b"\nfine.example\n"
    )
    result = import_ut1_dir(tmp_path)
    assert result.domains["cat"] == {"ok.example", "fine.example"}
    assert [(r.line, r.reason) for r in result.rejected] == [
        (2, "not valid UTF-8"),
        (3, "line longer than 4096 bytes"),
    ]
    assert result.lines == 4


def test_hosts_file(tmp_path: Path) -> None:
    hosts = tmp_path / "hosts"
    hosts.write_text(
        "# a hosts-format block list\n"
        "127.0.0.1 localhost\n"
        "::1 ip6-localhost ip6-loopback\n"
        "0.0.0.0 ads.example tracker.example  # two names\n"
        "0.0.0.0 ADS.example\n"
        "127.0.0.1\tbüroads.example\n"
        "0.0.0.0 bad_host!.example\n"
        "ads-only.example\n"
        "0.0.0.0\n"
        "0.0.0.0 1.2.3.4\n"
        "0.0.0.0 example.net/path\n"
    )
    result = import_hosts_file(hosts, "publicite")
    assert result.domains["publicite"] == {
        "ads.example",
        "tracker.example",
        "xn--broads-3ya.example",
        "1.2.3.4",
    }
    assert result.duplicates == 1
    assert [(r.line, r.reason.split(":")[0]) for r in result.rejected] == [
        (7, "character '!' not allowed in a host name"),
        (8, "expected 'ADDRESS NAME...'"),
        (9, "address without a name"),
        (11, "a hosts file holds names, not URLs"),
    ]
    skipped = [n.text for n in result.notices if "housekeeping" in n.reason]
    assert skipped == ["localhost", "ip6-localhost", "ip6-loopback"]


def test_plain_list(tmp_path: Path) -> None:
    listing = tmp_path / "list.txt"
    listing.write_text(
        "\ufeff# learning sites\n"
        "courses.example   # trailing comment\n"
        ".dotted.example\n"
        "https://www.example.org/training/\n"
        "*.wild.example\n"
        "0.0.0.0 hosts-line.example\n"
        "10.0.0.1\n"
    )
    result = import_plain_list(listing, "elearning")
    assert result.domains["elearning"] == {"courses.example", "dotted.example", "10.0.0.1"}
    assert result.urls["elearning"] == {("www.example.org", "/training")}
    assert [(r.line, r.reason) for r in result.rejected] == [
        (5, "wildcards are not supported (a domain entry already covers subdomains)"),
        (6, "contains whitespace (one entry per line)"),
    ]
    notes = {(n.line, n.reason) for n in result.notices}
    assert (3, "leading '.' removed (a domain entry already covers subdomains)") in notes
    assert (4, "entry has a path: imported as a URL entry") in notes


def test_bad_category_name_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(CategoryNameError):
        import_plain_list(tmp_path / "x", "Bad Name")
    with pytest.raises(SourceError, match="cannot read"):
        import_plain_list(tmp_path / "missing.txt", "ok")
    with pytest.raises(SourceError, match="cannot read"):
        import_hosts_file(tmp_path / "missing.txt", "ok")


def test_results_merge(ut1_dir: Path, tmp_path: Path) -> None:
    extra = tmp_path / "extra.txt"
    extra.write_text("pokerstars.com\nnew.example\n")
    merged = import_ut1_dir(ut1_dir)
    merged.extend(import_plain_list(extra, "gambling"))
    assert "new.example" in merged.domains["gambling"]
    assert merged.duplicates == 2
    assert len(merged.sources) == 2
