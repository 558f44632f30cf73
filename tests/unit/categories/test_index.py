"""CategoryIndex: matching semantics, case rules, overrides on top, cache, staleness."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from webwarden.categories.importers import ImportResult
from webwarden.categories.index import CategoryIndex, open_index
from webwarden.categories.normalise import HostError
from webwarden.categories.overrides import OverridesError
from webwarden.categories.snapshot import SnapshotError, build_snapshot

DOMAINS = {
    "gambling": ["casino.example", "1.2.3.4", "xn--bcher-kva.de", "_under.example", "2001:db8::1"],
    "games": ["casino.example", "games.example"],
    "adult": ["adult.example", "xxx"],
    "bank": ["bank.example"],
    "press": ["news.example"],
}
URLS = {
    "adult": [("example.org", "/adult"), ("example.org", "/Adult"), ("news.example", "/naughty")],
    "gambling": [("example.org", "/casino?"), ("1.2.3.4", "/x"), ("www.example.net", "/bet")],
    "games": [("example.org", "/casino")],
}


def _build(path: Path) -> Path:
    result = ImportResult()
    for category, hosts in DOMAINS.items():
        result.categories.add(category)
        for host in hosts:
            result.add_domain(category, host)
    for category, entries in URLS.items():
        for host, url_path in entries:
            result.add_url(category, host, url_path)
    build_snapshot(result, path)
    return path


@pytest.fixture
def snapshot_path(tmp_path: Path) -> Path:
    return _build(tmp_path / "test.wwcat")


@pytest.fixture
def index(snapshot_path: Path) -> Iterator[CategoryIndex]:
    with open_index(snapshot_path) as opened:
        yield opened


@pytest.mark.parametrize(
    ("host", "path", "expected"),
    [
        ("casino.example", "/", {"gambling", "games"}),
        ("www.casino.example", "/", {"gambling", "games"}),
        ("a.b.c.casino.example", "/", {"gambling", "games"}),
        ("CASINO.Example.", "/", {"gambling", "games"}),
        ("casino.example:8443", "/", {"gambling", "games"}),
        ("notcasino.example", "/", set()),
        ("casino.example.com", "/", set()),
        ("example", "/", set()),
        ("bücher.de", "/", {"gambling"}),
        ("shop.BÜCHER.de", "/", {"gambling"}),
        ("_under.example", "/", {"gambling"}),
        ("site.xxx", "/", {"adult"}),
        ("1.2.3.4", "/", {"gambling"}),
        ("0x01020304", "/", {"gambling"}),
        ("16909060", "/", {"gambling"}),
        ("1.2.3.4", "/x/y", {"gambling"}),
        ("[2001:db8::1]", "/", {"gambling"}),
        ("2001:DB8:0::1", "/", {"gambling"}),
        ("example.org", "/", set()),
        ("example.org", "/adult", {"adult"}),
        ("example.org", "/adult/page.html", {"adult"}),
        ("example.org", "/adultery", set()),
        ("example.org", "/ADULT", set()),
        ("example.org", "/Adult", {"adult"}),
        ("EXAMPLE.org", "/adult", {"adult"}),
        ("www.example.org", "/adult", {"adult"}),
        ("www3.example.org", "/adult", {"adult"}),
        ("m.example.org", "/adult", set()),
        ("example.org", "/casino", {"games"}),
        ("example.org", "/casino?game=1", {"games", "gambling"}),
        ("www.example.net", "/bet", {"gambling"}),
        ("example.net", "/bet", set()),
        ("news.example", "/", {"press"}),
        ("news.example", "/naughty/story", {"press", "adult"}),
        ("news.example", "/naughty#frag", {"press", "adult"}),
    ],
)
def test_lookup(index: CategoryIndex, host: str, path: str, expected: set[str]) -> None:
    assert index.lookup(host, path) == expected


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://www.casino.example/", {"gambling", "games"}),
        ("https://user@Example.org:443/adult?x=1", {"adult"}),
        ("example.org/casino?", {"games", "gambling"}),
        ("casino.example:443", {"gambling", "games"}),
        ("http://[2001:db8::1]:8080/", {"gambling"}),
        ("http://unlisted.example/", set()),
    ],
)
def test_lookup_url(index: CategoryIndex, url: str, expected: set[str]) -> None:
    assert index.lookup_url(url) == expected


@pytest.mark.parametrize("host", ["", "a..b", "bad host", "1.2.3.4.5", "[::1"])
def test_garbage_hosts_raise(index: CategoryIndex, host: str) -> None:
    with pytest.raises(HostError):
        index.lookup(host)


def test_names_and_version(index: CategoryIndex, snapshot_path: Path) -> None:
    assert index.names == frozenset(DOMAINS)
    assert index.version == index.snapshot.version
    assert len(index.version) == 16
    assert index.path == snapshot_path


def test_cache_is_bounded_and_used(snapshot_path: Path) -> None:
    with open_index(snapshot_path, cache_size=4) as index:
        for _ in range(3):
            for host in ("casino.example", "bank.example"):
                index.lookup(host)
        for i in range(10):
            index.lookup(f"h{i}.example")
        info = index.cache_info()
        assert info.hits == 4
        assert info.currsize == 4


OVERRIDES = """\
set:
  casino.example: [elearning]
  safe.games.example: []
  example.org/adult/biology: [sexual_education]
add:
  bank.example: [financial]
  www.casino.example: [promo]
  example.org/casino: [promo]
remove:
  example.org: [adult]
  news.example/naughty: [press]
"""


@pytest.fixture
def overridden(snapshot_path: Path, tmp_path: Path) -> Iterator[CategoryIndex]:
    path = tmp_path / "overrides.yaml"
    path.write_text(OVERRIDES)
    with open_index(snapshot_path, path) as opened:
        yield opened


@pytest.mark.parametrize(
    ("host", "path", "expected"),
    [
        ("casino.example", "/", {"elearning"}),
        ("x.casino.example", "/", {"elearning"}),
        ("www.casino.example", "/", {"elearning", "promo"}),
        ("games.example", "/", {"games"}),
        ("safe.games.example", "/", set()),
        ("bank.example", "/", {"bank", "financial"}),
        ("example.org", "/adult", set()),  # domain remove beats the listed URL entry
        ("example.org", "/adult/biology", {"sexual_education"}),
        ("example.org", "/casino", {"games", "promo"}),
        ("news.example", "/naughty", {"adult"}),
        ("news.example", "/", {"press"}),
    ],
)
def test_overrides_win_most_specific_last(
    overridden: CategoryIndex, host: str, path: str, expected: set[str]
) -> None:
    assert overridden.lookup(host, path) == expected


def test_override_names_and_version(overridden: CategoryIndex, index: CategoryIndex) -> None:
    assert overridden.names == frozenset(DOMAINS) | {
        "elearning",
        "promo",
        "sexual_education",
        "financial",
    }
    assert overridden.version != index.version
    assert len(overridden.version) == 16


def test_bad_overrides_close_nothing_open(snapshot_path: Path, tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("remove:\n  a.example: [nosuch]\n")
    with pytest.raises(OverridesError, match="unknown category 'nosuch'"):
        open_index(snapshot_path, path)


def test_missing_snapshot(tmp_path: Path) -> None:
    with pytest.raises(SnapshotError):
        open_index(tmp_path / "missing.wwcat")


def test_is_stale(snapshot_path: Path, tmp_path: Path) -> None:
    overrides = tmp_path / "o.yaml"
    overrides.write_text("add:\n  a.example: [x]\n")
    with open_index(snapshot_path, overrides) as index:
        assert not index.is_stale()
        overrides.write_text("add:\n  a.example: [x, y]\n")
        assert index.is_stale()
    with open_index(snapshot_path) as index:
        _build(snapshot_path)
        assert index.is_stale()


@pytest.fixture(scope="module")
def shared_index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CategoryIndex]:
    with open_index(_build(tmp_path_factory.mktemp("index") / "shared.wwcat")) as opened:
        yield opened


_label = st.from_regex(r"[a-z0-9][a-z0-9-]{0,8}", fullmatch=True)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(_label, min_size=0, max_size=3),
    st.sampled_from(
        sorted(
            {h for hosts in DOMAINS.values() for h in hosts if ":" not in h and not h[0].isdigit()}
            | {"example.org", "unlisted.example"}
        )
    ),
)
def test_subdomain_categories_include_the_domains(
    shared_index: CategoryIndex, labels: list[str], domain: str
) -> None:
    sub = ".".join([*labels, domain])
    assert shared_index.lookup(sub) >= shared_index.lookup(domain)
    assert shared_index.lookup(sub.upper() + ".") == shared_index.lookup(sub)
