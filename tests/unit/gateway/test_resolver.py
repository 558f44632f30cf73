"""Resolve once, check every address."""

from __future__ import annotations

import asyncio

import pytest

from webwarden.gateway.addresses import DestinationGuard, DestinationRefusedError, parse_networks
from webwarden.gateway.resolver import ResolveError, Resolver


def test_literals_are_checked_without_lookup() -> None:
    resolver = Resolver(DestinationGuard(parse_networks(["127.0.0.20/32"])))
    assert asyncio.run(resolver.addresses("127.0.0.20", 80)) == ("127.0.0.20",)
    assert asyncio.run(resolver.addresses("::ffff:127.0.0.20", 80)) == ("127.0.0.20",)
    with pytest.raises(DestinationRefusedError):
        asyncio.run(resolver.addresses("127.0.0.1", 80))


def test_a_name_for_this_machine_is_refused() -> None:
    resolver = Resolver(DestinationGuard())
    with pytest.raises(DestinationRefusedError):
        asyncio.run(resolver.addresses("localhost", 80))


def test_unresolvable_names_are_remembered_briefly() -> None:
    resolver = Resolver(DestinationGuard())
    for _ in range(2):
        with pytest.raises(ResolveError, match="could not be resolved"):
            asyncio.run(resolver.addresses("no-such-host.invalid", 80))
