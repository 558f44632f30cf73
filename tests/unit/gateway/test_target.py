"""Request targets and hosts, normalised the way browsers do."""

from __future__ import annotations

import pytest

from webwarden.gateway.http1 import HttpError
from webwarden.gateway.target import (
    Target,
    check_host_header,
    normalise_host,
    parse_ipv4,
    parse_target,
)


@pytest.mark.parametrize("host, expected", [
    ("127.0.0.1", "127.0.0.1"),
    ("127.1", "127.0.0.1"),
    ("2130706433", "127.0.0.1"),
    ("0x7f000001", "127.0.0.1"),
    ("0X7F.1", "127.0.0.1"),
    ("0177.0.0.1", "127.0.0.1"),
    ("0177.0.1", "127.0.0.1"),
    ("10.0.258", "10.0.1.2"),
    ("127.0.0.1.", "127.0.0.1"),
    ("example.com", None),
    ("1.example", None),
])
def test_ipv4_spellings(host: str, expected: str | None) -> None:
    assert parse_ipv4(host) == expected


@pytest.mark.parametrize("host", ["256.0.0.1", "1.2.3.4.5", "09.0.0.1",
                                  "1.2.3.256", "4294967296", "example.123"])
def test_invalid_numeric_hosts(host: str) -> None:
    with pytest.raises(HttpError):
        parse_ipv4(host)


@pytest.mark.parametrize("raw, expected", [
    ("Example.COM", "example.com"),
    ("example.com.", "example.com"),
    ("[::1]", "::1"),
    ("[::ffff:127.0.0.1]", "127.0.0.1"),
    ("[::ffff:7f00:1]", "127.0.0.1"),
    ("[2001:DB8::1]", "2001:db8::1"),
    ("under_score.example", "under_score.example"),
    ("xn--bcher-kva.example", "xn--bcher-kva.example"),
])
def test_normalise_host(raw: str, expected: str) -> None:
    assert normalise_host(raw) == expected


@pytest.mark.parametrize("raw", ["", "a..b", "-a.b", "a b", "[::1", "[zz::1]", "a%2eb",
                                 "[fe80::1%eth0]", "a" * 64 + ".b"])
def test_bad_hosts(raw: str) -> None:
    with pytest.raises(HttpError):
        normalise_host(raw)


def test_absolute_form() -> None:
    t = parse_target("GET", "http://Example.com:8080/a/b?c=d")
    assert t == Target("http", "example.com", 8080, "/a/b?c=d", "Example.com:8080")
    assert t.authority == "example.com:8080"
    assert parse_target("GET", "http://example.com").path == "/"
    assert parse_target("GET", "http://example.com?q").path == "/?q"
    assert parse_target("GET", "HTTP://example.com/").port == 80


def test_authority_form_for_connect() -> None:
    t = parse_target("CONNECT", "bank.example:443")
    assert (t.scheme, t.host, t.port) == ("https", "bank.example", 443)
    assert parse_target("CONNECT", "[::1]:8443").host == "::1"


@pytest.mark.parametrize("method, target", [
    ("GET", "/relative"),
    ("GET", "*"),
    ("GET", "https://example.com/"),
    ("GET", "ftp://example.com/"),
    ("GET", "http://user:pw@example.com/"),
    ("GET", "http://example.com/#frag"),
    ("GET", "http://example.com:0/"),
    ("GET", "http://example.com:65536/"),
    ("GET", "http://example.com:8o/"),
    ("CONNECT", "example.com"),
    ("CONNECT", "http://example.com:443"),
    ("CONNECT", "user@example.com:443"),
])
def test_refused_targets(method: str, target: str) -> None:
    with pytest.raises(HttpError) as caught:
        parse_target(method, target)
    assert caught.value.status == 400


def test_host_header_must_match() -> None:
    t = parse_target("GET", "http://example.com/")
    check_host_header(t, "example.com", "GET")
    check_host_header(t, "EXAMPLE.com:80", "GET")
    check_host_header(t, None, "GET")
    for bad in ("other.com", "example.com:81", "example.com:x"):
        with pytest.raises(HttpError):
            check_host_header(t, bad, "GET")
    c = parse_target("CONNECT", "example.com:443")
    check_host_header(c, "example.com", "CONNECT")
    check_host_header(c, "example.com:443", "CONNECT")
