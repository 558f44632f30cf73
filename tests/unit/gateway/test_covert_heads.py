"""The covert profile (W3): nothing in a covert request names the organisation, the
gateway or the device, and every covert device sends the same User-Agent and language."""

from __future__ import annotations

import pytest

from webwarden.gateway.heads import (
    COVERT_ACCEPT_LANGUAGE,
    COVERT_USER_AGENT,
    internal_host,
    upstream_request_head,
)
from webwarden.gateway.http1 import parse_request_head
from webwarden.gateway.target import parse_target

UA = COVERT_USER_AGENT.encode()
LANGUAGE = COVERT_ACCEPT_LANGUAGE.encode()


def head(*lines: bytes, url: bytes = b"http://www.gov.uk/search", covert: bool = True,
         **fixed: bytes) -> bytes:
    raw = (b"GET " + url + b" HTTP/1.1\r\nHost: " + url.split(b"/")[2] + b"\r\n"
           + b"".join(line + b"\r\n" for line in lines) + b"\r\n")
    req = parse_request_head(raw)
    return upstream_request_head(req, parse_target(req.method, req.target), covert=covert,
                                 body="none", **fixed)


def fields(data: bytes) -> list[bytes]:
    return data.split(b"\r\n")[2:-2]


@pytest.mark.parametrize(
    "line",
    [
        b"Via: 1.1 squid.met.example (squid/5.7)",
        b"X-Forwarded-For: 10.20.30.40",
        b"Forwarded: for=10.20.30.40;by=gateway.met.example",
        b"X-Real-IP: 10.20.30.40",
        b"Client-IP: 10.20.30.40",
        b"True-Client-IP: 10.20.30.40",
        b"X-Client-IP: 10.20.30.40",
        b"X-Cluster-Client-IP: 10.20.30.40",
        b"X-Originating-IP: [10.20.30.40]",
        b"X-Proxy-ID: 1283746",
        b"X-BlueCoat-Via: 6a2c7e9a1f0b3d45",
        b"X-Forwarded-Host: intranet.met.example",
        b"X-Forwarded-Proto: http",
        b"X-Forwarded-Port: 3128",
        b"X-Forwarded-Server: proxy01",
        b"X-Forwarded-Scheme: http",
        b"X-Webwarden-Device: cs-biu-0005",
        b"X-WebWarden-Anything: 1",
        b"Proxy-Connection: keep-alive",
        b"Max-Forwards: 10",
        b"From: dc5001@met.police.uk",
        b"X-Authenticated-User: dc5001",
        b"Sec-CH-UA-Platform: \"Linux\"",
        b"Sec-CH-UA: \"Chromium\";v=\"156\"",
        b"Sec-CH-UA-Full-Version-List: \"Chromium\";v=\"156.0.8078.114\"",
    ],
)
def test_covert_drops_what_identifies(line: bytes) -> None:
    name = line.split(b":")[0]
    covert = head(line, b"Accept: */*")
    assert name.lower() not in covert.lower()
    assert b"Accept: */*" in covert
    if name.lower() not in (b"via", b"proxy-connection"):
        assert line in head(line, covert=False)  # only the covert profile drops it


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        # The browser's own are replaced where they stood.
        ([b"Accept: */*", b"User-Agent: Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0",
          b"Accept-Language: en-US", b"Cookie: a=b"],
         [b"Accept: */*", b"User-Agent: " + UA, b"Accept-Language: " + LANGUAGE,
          b"Cookie: a=b"]),
        # Missing ones are added, so every covert device looks the same.
        ([b"Accept: */*"], [b"Accept: */*", b"User-Agent: " + UA,
                            b"Accept-Language: " + LANGUAGE]),
        # Repeats are not passed on.
        ([b"User-Agent: a", b"User-Agent: b", b"Accept-Language: de, fr"],
         [b"User-Agent: " + UA, b"Accept-Language: " + LANGUAGE]),
    ],
)
def test_covert_fixed_user_agent_and_language(lines: list[bytes], expected: list[bytes]
                                              ) -> None:
    assert fields(head(*lines)) == expected


def test_configured_values_and_the_normal_path() -> None:
    covert = head(b"User-Agent: curl/8.14", user_agent=b"Custom/1.0", accept_language=b"cy")
    assert fields(covert) == [b"User-Agent: Custom/1.0", b"Accept-Language: cy"]
    normal = head(b"User-Agent: curl/8.14", covert=False)
    assert fields(normal) == [b"User-Agent: curl/8.14", b"Via: 1.1 webwarden"]


@pytest.mark.parametrize(
    ("line", "kept"),
    [
        (b"Referer: http://www.gov.uk/", True),
        (b"Referer: https://www.gov.uk:443/a?b=c", True),
        (b"Referer: https://assets.www.gov.uk/x.css", True),
        (b"Referer: https://news.example.com/story", False),  # another site: not told
        (b"Referer: http://intranet/home", False),
        (b"Referer: http://10.20.30.40/", False),
        (b"Referer: http://webwarden.invalid/self-test", False),
        (b"Referer: https://portal.pnn.police.uk/", False),
        (b"Origin: https://www.gov.uk", True),
        (b"Origin: https://news.example.com", True),  # CORS needs it; it names no network
        (b"Origin: null", True),
        (b"Origin: http://intranet", False),
        (b"Origin: http://192.168.1.10:8080", False),
        (b"Origin: http://[fd00::1]", False),
        (b"Origin: https://crime.met.local", False),
        (b"Origin: http://webwarden.invalid", False),
    ],
)
def test_covert_referer_and_origin(line: bytes, kept: bool) -> None:
    assert (line in head(line)) is kept
    assert line in head(line, covert=False)


def test_same_site_referer_on_an_internal_host_goes() -> None:
    assert b"Referer" not in head(b"Referer: http://10.1.1.1/a", url=b"http://10.1.1.1/b")


@pytest.mark.parametrize(
    ("host", "internal"),
    [
        (b"www.gov.uk", False), (b"8.8.8.8", False), (b"2001:4860:4860::8888", False),
        (b"intranet", True), (b"10.0.0.1", True), (b"172.16.5.4", True),
        (b"192.168.0.1", True), (b"127.0.0.1", True), (b"169.254.1.1", True), (b"::1", True),
        (b"fe80::1", True), (b"printer.local", True), (b"hr.corp", True),
        (b"webwarden.invalid", True), (b"router.home.arpa", True),
        (b"portal.pnn.police.uk", True), (b"www.met.police.uk", False), (b"", False),
    ],
)
def test_internal_host(host: bytes, internal: bool) -> None:
    assert internal_host(host) is internal
