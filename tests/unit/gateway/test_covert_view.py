"""The covert view: the head is the gateway's own covert head, each field is marked against
what the device sent, credentials are never shown, the TLS summary is the real client's."""

from __future__ import annotations

import dataclasses
import json
import ssl

import pytest

from webwarden.gateway.config import GatewayConfig
from webwarden.gateway.covert_view import (
    GATEWAY_ADDRESS,
    HIDDEN,
    CovertView,
    FieldChange,
    first_client_hello,
    what_destination_sees,
)
from webwarden.gateway.heads import COVERT_USER_AGENT, upstream_request_head
from webwarden.gateway.http1 import parse_request_head
from webwarden.gateway.target import parse_target

BROWSER = (
    b"GET http://webwarden.invalid/self-test HTTP/1.1\r\n"
    b"Host: webwarden.invalid\r\n"
    b"User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0\r\n"
    b"Accept: text/html\r\n"
    b"Accept-Language: en-US,en;q=0.5\r\n"
    b"Proxy-Authorization: Basic ZGM1MDAxOmRlbW8=\r\n"
    b"X-Forwarded-For: 10.20.30.40\r\n"
    b"Referer: http://intranet.met.local/cases/4471\r\n"
    b"Cookie: session=abc\r\n"
    b"\r\n"
)
SITE = parse_target("GET", "http://www.example.com/")


def view(config: GatewayConfig | None = None, raw: bytes = BROWSER,
         context: ssl.SSLContext | None = None) -> CovertView:
    return what_destination_sees(parse_request_head(raw), SITE, config or GatewayConfig(),
                                 hello_context=context)


def test_the_head_is_the_gateways_own() -> None:
    req = parse_request_head(BROWSER)
    assert view().head == upstream_request_head(req, SITE, covert=True, body="none")


@pytest.mark.parametrize(
    ("name", "change", "sent", "original"),
    [
        ("Host", "changed", "www.example.com", "webwarden.invalid"),
        ("User-Agent", "changed", COVERT_USER_AGENT,
         "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0"),
        ("Accept", "kept", "text/html", "text/html"),
        ("Accept-Language", "changed", "en-GB,en;q=0.9", "en-US,en;q=0.5"),
        ("Proxy-Authorization", "removed", None, HIDDEN),
        ("X-Forwarded-For", "removed", None, "10.20.30.40"),
        ("Referer", "removed", None, "http://intranet.met.local/cases/4471"),
        ("Cookie", "kept", HIDDEN, HIDDEN),
    ],
)
def test_fields_are_marked(name: str, change: str, sent: str | None,
                           original: str | None) -> None:
    fields = [f for f in view().fields if f.name == name]
    assert fields == [FieldChange(name, sent, original, change)]


def test_missing_fields_are_added_and_nothing_secret_is_shown() -> None:
    bare = b"GET http://webwarden.invalid/self-test HTTP/1.1\r\nHost: webwarden.invalid\r\n\r\n"
    added = {f.name: f.sent for f in view(raw=bare).fields if f.change == "added"}
    assert added == {"User-Agent": COVERT_USER_AGENT, "Accept-Language": "en-GB,en;q=0.9"}
    shown = json.dumps(view().to_json())
    assert "ZGM1MDAx" not in shown and "session=abc" not in shown
    assert "Cookie: (not shown)" in shown


@pytest.mark.parametrize(
    ("settings", "source", "user_agent"),
    [
        ({}, GATEWAY_ADDRESS, COVERT_USER_AGENT),
        ({"covert_egress": "192.0.2.44", "covert_user_agent": "Mozilla/5.0 (Macintosh)"},
         "192.0.2.44", "Mozilla/5.0 (Macintosh)"),
    ],
)
def test_configured_settings(settings: dict[str, str], source: str, user_agent: str) -> None:
    seen = view(dataclasses.replace(GatewayConfig(), **settings))  # type: ignore[arg-type]
    assert seen.source_address == source
    assert b"User-Agent: " + user_agent.encode() + b"\r\n" in seen.head


def test_tls_summary_of_the_default_client() -> None:
    tls = view().tls
    assert tls is not None and tls["server_name"] == "www.example.com"
    assert "TLS 1.3" in tls["versions"]  # type: ignore[operator]
    assert str(tls["ja4"]).startswith("t13d")


def test_tls_summary_of_a_given_context() -> None:
    context = ssl.create_default_context()
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    context.set_alpn_protocols(["http/1.1"])
    tls = view(context=context).tls
    assert tls is not None
    assert tls["versions"] == ["TLS 1.2"] and tls["alpn"] == ["http/1.1"]


@pytest.mark.parametrize(("host", "sni"), [("www.gov.uk", "www.gov.uk"), ("192.0.2.7", None)])
def test_first_client_hello(host: str, sni: str | None) -> None:
    hello = first_client_hello(ssl.create_default_context(), host)
    assert not isinstance(hello, str) and hello.sni == sni


def test_a_context_that_cannot_start_is_reported() -> None:
    server_only = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    result = first_client_hello(server_only, "www.gov.uk")
    assert isinstance(result, str) and "could not start" in result
    seen = view(context=server_only)
    assert seen.tls is None and "could not start" in seen.tls_problem
