"""Which addresses the gateway connects to: global unicast only, unless allowed."""

from __future__ import annotations

import pytest

from webwarden.gateway.addresses import (
    SAFE_HTTP_PORTS,
    DestinationGuard,
    DestinationRefusedError,
    parse_networks,
)


@pytest.mark.parametrize("address", [
    "127.0.0.1", "127.255.0.9", "0.0.0.0", "10.1.2.3", "172.16.0.1", "192.168.1.1",
    "169.254.169.254", "100.64.0.1", "224.0.0.1", "255.255.255.255", "198.18.0.1",
    "::1", "::", "fe80::1", "fc00::1", "ff02::1",
    "::ffff:127.0.0.1", "::ffff:10.0.0.1", "64:ff9b::a00:1", "2002:7f00:1::1",
])
def test_refused_by_default(address: str) -> None:
    with pytest.raises(DestinationRefusedError):
        DestinationGuard().check(address, 80)


@pytest.mark.parametrize("address", ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946",
                                     "64:ff9b::5db8:d822"])
def test_public_addresses_pass(address: str) -> None:
    DestinationGuard().check(address, 80)


def test_allowed_networks_open_exactly_what_they_name() -> None:
    guard = DestinationGuard(parse_networks(["127.0.0.20/32", "10.0.0.0/8"]))
    guard.check("127.0.0.20", 8080)
    guard.check("10.9.9.9", 80)
    guard.check("::ffff:127.0.0.20", 80)  # judged by the embedded address
    with pytest.raises(DestinationRefusedError):
        guard.check("127.0.0.21", 8080)


def test_the_gateway_itself_is_never_reachable() -> None:
    guard = DestinationGuard(parse_networks(["127.0.0.0/8"]), own_endpoints=[("127.0.0.1", 3128)])
    guard.check("127.0.0.1", 8080)
    with pytest.raises(DestinationRefusedError) as caught:
        guard.check("127.0.0.1", 3128)
    assert "gateway itself" in caught.value.reason
    wildcard = DestinationGuard(parse_networks(["127.0.0.0/8"]),
                                own_endpoints=[("0.0.0.0", 3129)])
    with pytest.raises(DestinationRefusedError):
        wildcard.check("127.0.0.1", 3129)  # any local address on a port it listens on


def test_verdicts_are_cached_but_bounded() -> None:
    guard = DestinationGuard(cache_size=2)
    for address in ("10.0.0.1", "10.0.0.2", "10.0.0.3"):
        with pytest.raises(DestinationRefusedError):
            guard.check(address, 80)
    assert len(guard._verdicts) <= 2


def test_parse_networks() -> None:
    assert [str(n) for n in parse_networks(["127.0.0.1", "10.0.0.0/8", "::1"])] == [
        "127.0.0.1/32", "10.0.0.0/8", "::1/128"]
    with pytest.raises(ValueError, match="not an address"):
        parse_networks(["nonsense"])


def test_safe_ports_are_squids() -> None:
    assert {80, 443, 8080, 65535} <= SAFE_HTTP_PORTS
    assert not {22, 25, 110, 143, 1024} & SAFE_HTTP_PORTS
