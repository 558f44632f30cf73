"""Host, path and URL normalisation: a table of tricky inputs and some properties."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from webwarden.categories.normalise import (
    HostError,
    is_ip,
    normalise_host,
    normalise_path,
    split_url,
    strip_www_like,
)

HOSTS = [
    ("example.com", "example.com"),
    ("Example.COM", "example.com"),
    ("example.com.", "example.com"),
    ("example.com:8080", "example.com"),
    ("example.com:", "example.com"),
    ("  example.com ", "example.com"),
    ("_video-bagarre.com", "_video-bagarre.com"),
    ("a_b.c_d.example", "a_b.c_d.example"),
    ("-dash-.blogspot.com", "-dash-.blogspot.com"),
    ("xn--bcher-kva.de", "xn--bcher-kva.de"),
    ("XN--BCHER-KVA.DE", "xn--bcher-kva.de"),
    ("bücher.de", "xn--bcher-kva.de"),
    ("BÜCHER.de", "xn--bcher-kva.de"),
    ("faß.de", "xn--fa-hia.de"),  # non-transitional, as browsers do today
    ("例え.テスト", "xn--r8jz45g.xn--zckzah"),
    ("ＥＸＡＭＰＬＥ．com", "example.com"),  # full-width letters and full stop
    ("example\u3002com", "example.com"),  # ideographic full stop
    ("😀.com", "xn--e28h.com"),  # refused by IDNA2008, accepted by UTS #46 (browsers)
    ("a_b.bücher.de", "a_b.xn--bcher-kva.de"),
    ("ex%61mple.com", "example.com"),
    ("1.2.3.4", "1.2.3.4"),
    ("1.2.3.4.", "1.2.3.4"),
    ("1.2.3.4:443", "1.2.3.4"),
    ("2130706433", "127.0.0.1"),
    ("0177.0.0.1", "127.0.0.1"),
    ("0x7f.1", "127.0.0.1"),
    ("0x7F.0.0.1", "127.0.0.1"),
    ("127.1", "127.0.0.1"),
    ("127.0.1", "127.0.0.1"),
    ("0", "0.0.0.0"),
    ("0x", "0.0.0.0"),
    ("[::1]", "::1"),
    ("[::1]:8080", "::1"),
    ("[2001:DB8:0:0:0:0:0:1]", "2001:db8::1"),
    ("2001:db8::1", "2001:db8::1"),
    ("::ffff:127.0.0.1", "::ffff:7f00:1"),
]

BAD_HOSTS = [
    ("", "empty host"),
    ("   ", "empty host"),
    ("a..b", "empty label"),
    (".example.com", "empty label"),
    ("example.com..", "empty label"),
    ("a b.com", "not allowed"),
    ("*.example.com", "not allowed"),
    ("exa/mple.com", "not allowed"),
    ("x" * 64 + ".com", "longer than 63"),
    (".".join(["abcdefghij"] * 24), "longer than 253"),
    ("example.com:99999", "bad port"),
    ("example.com:http", "bad port"),
    ("1.2.3.4.5", "more than 4 parts"),
    ("256.1.1.1", "out of range"),
    ("1.2.3.256", "out of range"),
    ("0x100000000", "out of range"),
    ("09.1.1.1", "not a number"),
    ("example.123", "not a number"),
    ("[::1", "without ']'"),
    ("[::1]x", "after ']'"),
    ("[fe80::1%eth0]", "zone"),
    ("1::2::3", "bad IPv6"),
    ("\ufffd.com", "international"),
    ("ex%ffample.com", "not UTF-8"),
]


@pytest.mark.parametrize(("raw", "expected"), HOSTS)
def test_normalise_host(raw: str, expected: str) -> None:
    assert normalise_host(raw) == expected


@pytest.mark.parametrize(("raw", "reason"), BAD_HOSTS)
def test_garbage_hosts_raise_host_error_with_reason(raw: str, reason: str) -> None:
    with pytest.raises(HostError) as caught:
        normalise_host(raw)
    assert reason in caught.value.reason
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize(("raw", "_"), HOSTS)
def test_normal_form_is_a_fixed_point(raw: str, _: str) -> None:
    once = normalise_host(raw)
    assert normalise_host(once) == once


def test_is_ip() -> None:
    assert is_ip("1.2.3.4")
    assert is_ip("::1")
    assert not is_ip("example.com1")
    assert not is_ip("1.example")


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("www.example.com", "example.com"),
        ("www2.example.com", "example.com"),
        ("web.example.com", "example.com"),
        ("ftp.example.com", "example.com"),
        ("www.com", None),
        ("wwwx.example.com", None),
        ("example.com", None),
        ("m.example.com", None),
    ],
)
def test_strip_www_like(host: str, expected: str | None) -> None:
    assert strip_www_like(host) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("/", "/"),
        ("", "/"),
        ("index.html", "/index.html"),
        ("?q=1", "/?q=1"),
        ("/Path/To", "/Path/To"),  # paths stay case-sensitive
        ("/a#frag", "/a"),
        ("/%7euser/%2f", "/~user/%2F"),  # unreserved decoded, others upper-cased
        ("/ü", "/%C3%BC"),
        ("/a b", "/a%20b"),
        ("/a%20b", "/a%20b"),
    ],
)
def test_normalise_path(raw: str, expected: str) -> None:
    assert normalise_path(raw) == expected


@pytest.mark.parametrize(
    ("url", "host", "path"),
    [
        ("http://Example.com/", "example.com", "/"),
        ("https://user:pw@Example.com:8443/a?b#c", "example.com", "/a?b"),
        ("example.com/path", "example.com", "/path"),
        ("example.com", "example.com", "/"),
        ("example.com:443", "example.com", "/"),
        ("http://[::1]:8080/x", "::1", "/x"),
        ("//example.com/p", "example.com", "/p"),
        ("http://example.com?q", "example.com", "/?q"),
        ("HTTP://BÜCHER.de/Ä", "xn--bcher-kva.de", "/%C3%84"),
    ],
)
def test_split_url(url: str, host: str, path: str) -> None:
    assert split_url(url) == (host, path)


@pytest.mark.parametrize("url", ["http:///path", "", "http://", "/just/a/path"])
def test_split_url_without_host_fails(url: str) -> None:
    with pytest.raises(HostError):
        split_url(url)


_label = st.from_regex(r"[a-zA-Z0-9_-]{1,20}", fullmatch=True)


@given(st.lists(_label, min_size=1, max_size=5), st.booleans())
def test_normalise_is_idempotent_on_generated_names(labels: list[str], dot: bool) -> None:
    raw = ".".join(labels) + ("." if dot else "")
    try:
        once = normalise_host(raw)
    except HostError:
        return
    assert normalise_host(once) == once
    assert once == once.lower()


@given(st.text(min_size=1, max_size=30))
def test_any_text_is_normalised_or_refused_with_host_error(raw: str) -> None:
    try:
        once = normalise_host(raw)
    except HostError:
        return
    assert once.isascii()
    assert normalise_host(once) == once


@given(st.integers(min_value=0, max_value=2**32 - 1))
def test_every_ipv4_spelling_gives_the_dotted_quad(value: int) -> None:
    quad = ".".join(str(value >> shift & 255) for shift in (24, 16, 8, 0))
    assert normalise_host(str(value)) == quad
    assert normalise_host(hex(value)) == quad
    assert normalise_host(quad) == quad
