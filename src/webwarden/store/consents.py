"""Consents: a person's acceptance of a notice (G6), kept until it expires.

The gateway records an acceptance with `add` and, before deciding, fetches the person's
`active` consents for the policy to see.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, insert, select

from webwarden.model.request import Consent, ConsentScopeKind
from webwarden.store.tables import consents


def _check(consent: Consent) -> None:
    if not consent.person_id:
        raise ValueError("a consent needs a person")
    if not consent.notice or not consent.scope:
        raise ValueError("a consent needs a notice and a scope")
    ConsentScopeKind(consent.scope_kind)  # raises ValueError on an unknown kind
    for name in ("accepted", "expires"):
        if getattr(consent, name).tzinfo is None:
            raise ValueError(f"consent {name} time must be timezone-aware")
    if consent.expires <= consent.accepted:
        raise ValueError("a consent must expire after it was accepted")


class ConsentStore:
    """Consents in the database."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def add(self, consent: Consent) -> None:
        """Record an acceptance; a malformed consent raises ValueError and stores nothing."""
        _check(consent)
        with self._engine.begin() as conn:
            conn.execute(
                insert(consents).values(
                    person_id=consent.person_id,
                    notice=consent.notice,
                    scope_kind=str(consent.scope_kind),
                    scope=consent.scope,
                    accepted=consent.accepted,
                    expires=consent.expires,
                )
            )

    def active(self, person_id: str, at: datetime) -> tuple[Consent, ...]:
        """The person's consents in force at `at` (accepted <= at < expires), oldest
        acceptance first."""
        if at.tzinfo is None:
            raise ValueError("`at` must be timezone-aware")
        query = (
            select(consents)
            .where(
                consents.c.person_id == person_id,
                consents.c.accepted <= at,
                consents.c.expires > at,
            )
            .order_by(consents.c.accepted, consents.c.id)
        )
        with self._engine.connect() as conn:
            rows = conn.execute(query).all()
        return tuple(
            Consent(
                person_id=row.person_id,
                notice=row.notice,
                scope_kind=ConsentScopeKind(row.scope_kind),
                scope=row.scope,
                accepted=row.accepted,
                expires=row.expires,
            )
            for row in rows
        )
