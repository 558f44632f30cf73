"""Acceptance tokens: genuine, current, and only for the person they name."""

from __future__ import annotations

from pathlib import Path

import pytest

from webwarden.gateway.consent_token import (
    ConsentTicket,
    ConsentTokens,
    InvalidTokenError,
    load_or_create_key,
)
from webwarden.model.request import ConsentScopeKind

TICKET = ConsentTicket("pc1001", "personal-secure-session", ConsentScopeKind.CATEGORY, "bank",
                       "http://bank.example/", 2592000, expires=2000)


def test_round_trip() -> None:
    tokens = ConsentTokens(b"k" * 32)
    assert tokens.verify(tokens.issue(TICKET), 1000, "pc1001") == TICKET


@pytest.mark.parametrize("now, person, reason", [
    (2000, "pc1001", "too long ago"),
    (1000, "ps2001", "someone else"),
    (1000, None, "someone else"),
])
def test_refusals(now: float, person: str | None, reason: str) -> None:
    tokens = ConsentTokens(b"k" * 32)
    with pytest.raises(InvalidTokenError, match=reason):
        tokens.verify(tokens.issue(TICKET), now, person)


def test_forged_or_damaged() -> None:
    tokens = ConsentTokens(b"k" * 32)
    token = tokens.issue(TICKET)
    other = ConsentTokens(b"o" * 32).issue(TICKET)
    payload, signature = token.split(".")
    for bad in (other, payload + "." + signature[::-1], "garbage", "a.b", payload + "."):
        with pytest.raises(InvalidTokenError):
            tokens.verify(bad, 1000, "pc1001")


def test_key_file(tmp_path: Path) -> None:
    path = tmp_path / "state" / "consent.key"
    key = load_or_create_key(path)
    assert len(key) == 32
    assert path.stat().st_mode & 0o777 == 0o600
    assert load_or_create_key(path) == key
    path.write_bytes(b"short")
    with pytest.raises(ValueError):
        load_or_create_key(path)
