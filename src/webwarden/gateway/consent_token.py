"""Signed tokens for accepting a notice (G6), so an acceptance cannot be forged or replayed
for someone else.

The notice page carries a token binding person, notice, scope, the URL to return to and an
expiry, signed with HMAC-SHA256 under a key kept in the state directory (created on first
start, readable by the gateway's user only). The Accept request is sent through the proxy
to the reserved host `webwarden.invalid` with the person's own Proxy-Authorization; the
gateway records the consent only if the signature holds, the token has not expired and the
authenticated person is the one the token names.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
from dataclasses import dataclass
from pathlib import Path

from webwarden.model.request import ConsentScopeKind

TOKEN_LIFETIME_SECONDS = 15 * 60
KEY_BYTES = 32


class InvalidTokenError(Exception):
    """The token is forged, damaged, expired or someone else's; the message says which."""


@dataclass(frozen=True, slots=True)
class ConsentTicket:
    """What a valid token grants: this person may accept this notice for this scope."""

    person_id: str
    notice_id: str
    scope_kind: ConsentScopeKind
    scope: str
    url: str
    remember_seconds: int
    expires: int


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class ConsentTokens:
    def __init__(self, key: bytes) -> None:
        if len(key) < 16:
            raise ValueError("the consent key must be at least 16 bytes")
        self._key = key

    def _sign(self, payload: bytes) -> bytes:
        return hmac.new(self._key, payload, hashlib.sha256).digest()

    def issue(self, ticket: ConsentTicket) -> str:
        payload = json.dumps(
            {
                "p": ticket.person_id,
                "n": ticket.notice_id,
                "k": ticket.scope_kind.value,
                "s": ticket.scope,
                "u": ticket.url,
                "r": ticket.remember_seconds,
                "e": ticket.expires,
            },
            separators=(",", ":"),
        ).encode("utf-8")
        return f"{_b64(payload)}.{_b64(self._sign(payload))}"

    def verify(self, token: str, now: float, person_id: str | None) -> ConsentTicket:
        """The ticket in `token`, if it is genuine, current and belongs to `person_id`."""
        payload_text, dot, signature_text = token.strip().partition(".")
        if not dot:
            raise InvalidTokenError("the acceptance token is damaged")
        try:
            payload = _unb64(payload_text)
            signature = _unb64(signature_text)
        except ValueError:
            raise InvalidTokenError("the acceptance token is damaged") from None
        if not hmac.compare_digest(signature, self._sign(payload)):
            raise InvalidTokenError("the acceptance token was not issued by this gateway")
        try:
            data = json.loads(payload)
            ticket = ConsentTicket(
                person_id=str(data["p"]),
                notice_id=str(data["n"]),
                scope_kind=ConsentScopeKind(data["k"]),
                scope=str(data["s"]),
                url=str(data["u"]),
                remember_seconds=int(data["r"]),
                expires=int(data["e"]),
            )
        except (ValueError, KeyError, TypeError):
            raise InvalidTokenError("the acceptance token is damaged") from None
        if now >= ticket.expires:
            raise InvalidTokenError("the notice was shown too long ago; open the page again")
        if person_id is None or person_id != ticket.person_id:
            raise InvalidTokenError("the notice was shown to someone else; open the page yourself")
        return ticket


def load_or_create_key(path: Path) -> bytes:
    """The key in `path`, made (random, mode 0600) if the file does not exist yet."""
    try:
        key = path.read_bytes()
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        key = os.urandom(KEY_BYTES)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first: use theirs
            return path.read_bytes()
        with os.fdopen(fd, "wb") as out:
            out.write(key)
    if len(key) < 16:
        raise ValueError(f"{path} holds fewer than 16 bytes; delete it to make a new key")
    return key
