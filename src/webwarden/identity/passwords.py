"""Password hashes kept in the directory: scrypt, so a leaked directory is slow to attack."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re

_FORMAT = re.compile(r"^scrypt\$(\d+)\$(\d+)\$(\d+)\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$")
_N, _R, _P = 2**14, 8, 1


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    salt = salt if salt is not None else os.urandom(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    b64 = base64.b64encode
    return f"scrypt${_N}${_R}${_P}${b64(salt).decode()}${b64(digest).decode()}"


def is_password_hash(value: str) -> bool:
    match = _FORMAT.match(value)
    if not match:
        return False
    n, r, p = (int(match.group(i)) for i in (1, 2, 3))
    return n >= 2**10 and n & (n - 1) == 0 and 1 <= r <= 32 and 1 <= p <= 16


def verify_password(password: str, stored: str) -> bool:
    match = _FORMAT.match(stored)
    if not match:
        return False
    n, r, p = (int(match.group(i)) for i in (1, 2, 3))
    salt = base64.b64decode(match.group(4))
    expected = base64.b64decode(match.group(5))
    digest = hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=len(expected), maxmem=2**27
    )
    return hmac.compare_digest(digest, expected)
