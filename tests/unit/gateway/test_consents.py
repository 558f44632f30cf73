"""The consent cache in front of the database."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from webwarden.gateway.consents import ConsentBook
from webwarden.model.request import Consent, ConsentScopeKind

NOW = datetime(2026, 1, 5, tzinfo=UTC)


class Store:
    def __init__(self) -> None:
        self.rows: list[Consent] = []
        self.reads = 0

    def add(self, consent: Consent) -> None:
        self.rows.append(consent)

    def active(self, person_id: str, at: datetime) -> tuple[Consent, ...]:
        self.reads += 1
        return tuple(c for c in self.rows if c.person_id == person_id)


def test_cache_then_database() -> None:
    store = Store()
    book = ConsentBook(store, ttl=30)
    assert book.cached("pc1001") is None
    assert asyncio.run(book.fetch("pc1001", NOW)) == ()
    cached = book.cached("pc1001")
    assert cached is not None and cached[0] == ()
    consent = Consent("pc1001", "n", ConsentScopeKind.CATEGORY, "bank", NOW,
                      NOW + timedelta(days=30))
    asyncio.run(book.add(consent))
    cached = book.cached("pc1001")
    assert cached is not None and cached[0] == (consent,)
    assert store.rows == [consent] and store.reads == 1


def test_expired_cache_entries_are_not_used() -> None:
    book = ConsentBook(Store(), ttl=0)
    asyncio.run(book.fetch("pc1001", NOW))
    assert book.cached("pc1001") is None
