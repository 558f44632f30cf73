from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import Engine

from webwarden.model.request import Consent, ConsentScopeKind
from webwarden.store import ConsentStore, make_engine

T0 = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)
BANKING = Consent(
    person_id="alice",
    notice="banking-notice",
    scope_kind=ConsentScopeKind.CATEGORY,
    scope="bank",
    accepted=T0,
    expires=T0 + timedelta(hours=8),
)


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'webwarden.db'}")
    yield engine
    engine.dispose()


@pytest.fixture
def store(engine: Engine) -> ConsentStore:
    return ConsentStore(engine)


def test_active_window(store: ConsentStore) -> None:
    store.add(BANKING)
    assert store.active("alice", T0 - timedelta(seconds=1)) == ()
    assert store.active("alice", T0) == (BANKING,)
    assert store.active("alice", T0 + timedelta(hours=7, minutes=59)) == (BANKING,)
    assert store.active("alice", T0 + timedelta(hours=8)) == ()


def test_only_the_persons_own(store: ConsentStore) -> None:
    store.add(BANKING)
    store.add(replace(BANKING, person_id="bob"))
    assert [c.person_id for c in store.active("bob", T0)] == ["bob"]
    assert store.active("carol", T0) == ()


def test_several_consents_oldest_first_and_typed(store: ConsentStore) -> None:
    shop = replace(
        BANKING,
        notice="shopping-notice",
        scope_kind=ConsentScopeKind.SITE,
        scope="shop.example",
        accepted=T0 - timedelta(hours=1),
    )
    store.add(BANKING)
    store.add(shop)
    active = store.active("alice", T0 + timedelta(minutes=5))
    assert active == (shop, BANKING)
    assert isinstance(active[0].scope_kind, ConsentScopeKind)
    assert active[0].accepted.tzinfo is not None


def test_times_in_other_zones_compare_as_instants(store: ConsentStore) -> None:
    store.add(BANKING)
    new_york = T0.astimezone(timezone(timedelta(hours=-4)))
    assert new_york.hour == 5
    assert store.active("alice", new_york) == (BANKING,)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"person_id": ""}, "person"),
        ({"scope": ""}, "scope"),
        ({"accepted": datetime(2024, 5, 1, 9, 0)}, "timezone-aware"),
        ({"expires": T0}, "expire after"),
        ({"scope_kind": "planet"}, "planet"),
    ],
)
def test_bad_consent_changes_nothing(
    store: ConsentStore, changes: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        store.add(replace(BANKING, **changes))  # type: ignore[arg-type]
    assert store.active("alice", T0 + timedelta(minutes=1)) == ()


def test_naive_query_time_is_refused(store: ConsentStore) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        store.active("alice", datetime(2024, 5, 1, 9, 0))
