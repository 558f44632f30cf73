"""List entries: parsing, and the URL-entry path rule."""

from __future__ import annotations

import pytest

from webwarden.categories.entries import Entry, EntryError, parse_entry, path_matches


@pytest.mark.parametrize(
    ("text", "url_list", "expected"),
    [
        ("example.com", False, Entry("example.com", None)),
        ("Example.COM", False, Entry("example.com", None)),
        ("1.2.3.4", False, Entry("1.2.3.4", None)),
        ("xn--bcher-kva.de", False, Entry("xn--bcher-kva.de", None)),
        ("_video-bagarre.com", False, Entry("_video-bagarre.com", None)),
        ("example.com/", False, Entry("example.com", None)),
        ("example.com/dir/page.html", True, Entry("example.com", "/dir/page.html")),
        ("example.com/dir/", True, Entry("example.com", "/dir")),
        ("example.com", True, Entry("example.com", "/")),
        ("example.com/index.php?", True, Entry("example.com", "/index.php?")),
        ("example.com/?v=1", True, Entry("example.com", "/?v=1")),
        ("Example.com/Path", True, Entry("example.com", "/Path")),
        ("1.2.3.4/x", True, Entry("1.2.3.4", "/x")),
    ],
)
def test_parse_entry(text: str, url_list: bool, expected: Entry) -> None:
    assert parse_entry(text, url_list=url_list) == expected


@pytest.mark.parametrize(
    ("text", "url_list", "expected", "note"),
    [
        ("http://example.com", False, Entry("example.com", None), "scheme"),
        (".example.com", False, Entry("example.com", None), "leading '.'"),
        ("example.com:8080", False, Entry("example.com", None), "port"),
        ("example.com/page", False, Entry("example.com", "/page"), "URL entry"),
        ("example.com/page#top", True, Entry("example.com", "/page"), "fragment"),
    ],
)
def test_adjusted_entries_carry_a_note(
    text: str, url_list: bool, expected: Entry, note: str
) -> None:
    entry = parse_entry(text, url_list=url_list)
    assert (entry.host, entry.path) == (expected.host, expected.path)
    assert any(note in n for n in entry.notes), entry.notes


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("*.example.com", "wildcards"),
        ("example .com", "whitespace"),
        ("user@example.com", "user info"),
        ("gopher://example.com", "scheme"),
        ("a..b", "empty label"),
        ("exa!mple.com", "not allowed"),
    ],
)
def test_bad_entries(text: str, reason: str) -> None:
    with pytest.raises(EntryError, match=reason):
        parse_entry(text, url_list=False)


@pytest.mark.parametrize(
    ("entry", "request_path", "matches"),
    [
        ("/", "/anything", True),
        ("/dir", "/dir", True),
        ("/dir", "/dir/", True),
        ("/dir", "/dir/page", True),
        ("/dir", "/dir?x=1", True),
        ("/dir", "/dir;jsessionid=1", True),
        ("/dir", "/directory", False),
        ("/dir", "/Dir", False),  # case-sensitive
        ("/dir", "/", False),
        ("/page?id=5", "/page?id=5", True),
        ("/page?id=5", "/page?id=5&x=1", True),
        ("/page?id=5", "/page?id=50", False),
        ("/index.php?", "/index.php?anything", True),
        ("/search?q=", "/search?q=cats", True),
        ("/index.php?", "/index.php", False),
    ],
)
def test_path_matches(entry: str, request_path: str, matches: bool) -> None:
    assert path_matches(entry, request_path) is matches
