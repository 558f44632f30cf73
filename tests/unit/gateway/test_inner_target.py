"""Requests inside a decrypted tunnel: one connection, one site."""

from __future__ import annotations

import pytest

from webwarden.gateway.http1 import HttpError
from webwarden.gateway.target import parse_inner_target


@pytest.mark.parametrize(
    ("target", "host_header", "path"),
    [
        ("/", "shop.example", "/"),
        ("/a/b?c=d", "shop.example", "/a/b?c=d"),
        ("/x", "SHOP.example.", "/x"),
        ("/x", "shop.example:443", "/x"),
        ("https://shop.example/y?z", "shop.example", "/y?z"),
        ("https://shop.example?z", "shop.example", "/?z"),
    ],
)
def test_requests_for_the_tunnels_site(target: str, host_header: str, path: str) -> None:
    parsed = parse_inner_target(target, host_header, "shop.example", 443)
    assert (parsed.scheme, parsed.host, parsed.port, parsed.path) == (
        "https", "shop.example", 443, path)


@pytest.mark.parametrize(
    ("target", "host_header", "status"),
    [
        ("/", "other.example", 421),  # domain fronting
        ("/", "shop.example:8443", 421),
        ("https://other.example/", "shop.example", 421),
        ("/", None, 400),
        ("*", "shop.example", 400),
        ("shop.example:443", "shop.example", 400),
        ("/#frag", "shop.example", 400),
        ("/", "shop.example:x", 400),
    ],
)
def test_anything_else_is_refused(target: str, host_header: str | None, status: int) -> None:
    with pytest.raises(HttpError) as caught:
        parse_inner_target(target, host_header, "shop.example", 443)
    assert caught.value.status == status
