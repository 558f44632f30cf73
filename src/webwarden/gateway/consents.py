"""The consents (G6) a worker knows about: a short-lived cache in front of the database.

Consents only ever turn a notice into an allow, so the gateway decides first without them
and looks them up only when the decision is a notice. The cache keeps each person's active
consents briefly; a notice decided on cached consents is checked again against the database
(a consent accepted through another worker must count at once).
"""

from __future__ import annotations

import asyncio
import time
from datetime import datetime
from typing import Protocol

from webwarden.model.request import Consent


class ConsentSource(Protocol):
    def add(self, consent: Consent) -> None: ...

    def active(self, person_id: str, at: datetime) -> tuple[Consent, ...]: ...


class ConsentBook:
    def __init__(self, store: ConsentSource, ttl: float = 30.0, max_people: int = 10000) -> None:
        self._store = store
        self._ttl = ttl
        self._max = max_people
        self._cache: dict[str, tuple[float, tuple[Consent, ...]]] = {}

    def cached(self, person_id: str) -> tuple[tuple[Consent, ...], float] | None:
        """(consents, age in seconds) if cached and fresh, else None."""
        entry = self._cache.get(person_id)
        if entry is None:
            return None
        age = time.monotonic() - entry[0]
        if age > self._ttl:
            return None
        return entry[1], age

    async def fetch(self, person_id: str, at: datetime) -> tuple[Consent, ...]:
        """The person's active consents, from the database (in a thread: it is I/O)."""
        consents = await asyncio.to_thread(self._store.active, person_id, at)
        self._remember(person_id, consents)
        return consents

    async def add(self, consent: Consent) -> None:
        await asyncio.to_thread(self._store.add, consent)
        entry = self._cache.get(consent.person_id)
        known = entry[1] if entry else ()
        self._remember(consent.person_id, (*known, consent))

    def _remember(self, person_id: str, consents: tuple[Consent, ...]) -> None:
        if len(self._cache) >= self._max:
            self._cache.clear()
        self._cache[person_id] = (time.monotonic(), consents)
