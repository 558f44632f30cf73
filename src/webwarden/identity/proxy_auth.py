"""Proxy-Authorization: Basic, checked against the directory's password hashes.

scrypt is slow on purpose, so a verified credential is remembered (by a keyed digest of the
header, never the password) for a short while; a wrong password is never cached as good."""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from collections import OrderedDict
from dataclasses import dataclass
from typing import Literal

from webwarden.identity.directory import Directory
from webwarden.identity.passwords import verify_password
from webwarden.model.people import Principal

AuthStatus = Literal["ok", "missing", "malformed", "bad-credentials"]


# How much of a refused user name is kept for the audit trail: enough for any real name,
# not a place to store whatever a client sends.
MAX_ATTEMPTED_NAME = 64


@dataclass(frozen=True, slots=True)
class AuthResult:
    """`attempted` is the user name of credentials that were refused (unknown name or
    wrong password), cut to MAX_ATTEMPTED_NAME characters, so that failed sign-ins to one
    account can be counted; it is never set for accepted or undecodable credentials."""

    principal: Principal | None
    status: AuthStatus
    attempted: str | None = None


class ProxyAuthenticator:
    def __init__(self, directory: Directory, *, cache_size: int = 4096) -> None:
        self.directory = directory
        self._key = os.urandom(16)
        self._cache: OrderedDict[bytes, str] = OrderedDict()
        self._cache_size = cache_size

    def authenticate(self, header: str | None) -> AuthResult:
        if header is None:
            return AuthResult(None, "missing")
        scheme, _, token = header.strip().partition(" ")
        if scheme.lower() != "basic" or not token:
            return AuthResult(None, "malformed")
        cache_key = hashlib.blake2b(token.strip().encode(), key=self._key).digest()
        cached = self._cache.get(cache_key)
        if cached is not None:
            principal = self.directory.person(cached)
            if principal is not None:
                self._cache.move_to_end(cache_key)
                return AuthResult(principal, "ok")
        try:
            decoded = base64.b64decode(token.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return AuthResult(None, "malformed")
        user, sep, password = decoded.partition(":")
        if not sep:
            return AuthResult(None, "malformed")
        stored = self.directory.password_hashes.get(user)
        principal = self.directory.person(user)
        if stored is None or principal is None or not verify_password(password, stored):
            return AuthResult(None, "bad-credentials", user[:MAX_ATTEMPTED_NAME])
        self._cache[cache_key] = user
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return AuthResult(principal, "ok")
