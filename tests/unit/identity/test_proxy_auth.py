"""Proxy-Authorization: Basic against the directory."""

from __future__ import annotations

import base64

from tests.conftest import DEMO_DIRECTORY
from webwarden.identity.directory import load_directory
from webwarden.identity.proxy_auth import MAX_ATTEMPTED_NAME, ProxyAuthenticator


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def test_statuses() -> None:
    auth = ProxyAuthenticator(load_directory(DEMO_DIRECTORY))
    assert auth.authenticate(None).status == "missing"
    assert auth.authenticate("Bearer abc").status == "malformed"
    assert auth.authenticate("Basic !!!").status == "malformed"
    assert auth.authenticate(basic("pc1001", "wrong")).status == "bad-credentials"
    assert auth.authenticate(basic("nobody", "demo")).status == "bad-credentials"
    ok = auth.authenticate(basic("pc1001", "demo"))
    assert ok.status == "ok" and ok.principal is not None and ok.principal.id == "pc1001"
    # the second time comes from the cache, and a wrong password is still wrong
    assert auth.authenticate(basic("pc1001", "demo")).status == "ok"
    assert auth.authenticate(basic("pc1001", "demo2")).status == "bad-credentials"


def test_refused_credentials_name_the_account_tried() -> None:
    auth = ProxyAuthenticator(load_directory(DEMO_DIRECTORY))
    assert auth.authenticate(basic("pc1001", "wrong")).attempted == "pc1001"
    assert auth.authenticate(basic("nobody", "demo")).attempted == "nobody"
    assert auth.authenticate(basic("x" * 500, "demo")).attempted == "x" * MAX_ATTEMPTED_NAME
    # accepted, absent or undecodable credentials name nobody
    assert auth.authenticate(basic("pc1001", "demo")).attempted is None
    assert auth.authenticate(None).attempted is None
    assert auth.authenticate("Basic !!!").attempted is None
