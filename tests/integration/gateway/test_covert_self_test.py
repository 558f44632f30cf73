"""The covert self-test end to end: `webwarden covert self-test` through the real gateway
as a covert device and as an ordinary one, the page itself, and a real covert request."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from tests.integration.gateway.conftest import (
    LAUNCH,
    ORIGIN_HOST,
    Gateway,
    World,
    body_of,
    clean_env,
    curl,
    status_of,
)

from webwarden.gateway.heads import COVERT_ACCEPT_LANGUAGE, COVERT_USER_AGENT

pytestmark = pytest.mark.integration


def self_test(gateway: Gateway, tmp_path: Path, *options: str, user: str = "dc5001",
              password: str = "demo") -> subprocess.CompletedProcess[str]:
    secret = tmp_path / "password"
    secret.write_text(password + "\n")
    return subprocess.run(
        [sys.executable, "-c", LAUNCH, "covert", "self-test",
         "--proxy", f"127.0.0.1:{gateway.proxy_port}", "--user", user,
         "--password-file", str(secret), *options],
        capture_output=True, text=True, env=clean_env(), timeout=60, check=False,
    )


def test_covert_device(gateway: Gateway, tmp_path: Path) -> None:
    result = self_test(gateway, tmp_path, "--source", "127.0.0.5", "--json")
    assert result.returncode == 0, result.stderr
    facts = json.loads(result.stdout)
    assert facts["covert"] is True and facts["device"] == "cs-biu-0005"
    head = facts["request_head"].lower()
    assert "via:" not in head and "x-forwarded-for" not in head
    assert "proxy-authorization" not in head and "webwarden" not in head
    assert f"user-agent: {COVERT_USER_AGENT}".lower() in head
    assert f"accept-language: {COVERT_ACCEPT_LANGUAGE}".lower() in head
    removed = {f["name"].lower() for f in facts["fields"] if f["change"] == "removed"}
    assert "proxy-authorization" in removed
    assert all(f["original"] != "Basic" and "ZGM1MDAx" not in str(f["original"])
               for f in facts["fields"])  # the credentials are never echoed
    assert facts["source_address"] == "the gateway's own address"
    assert facts["tls"]["server_name"] == "www.example.com"
    assert "TLS 1.3" in facts["tls"]["versions"]

    readable = self_test(gateway, tmp_path, "--source", "127.0.0.5")
    assert readable.returncode == 0
    assert "Covert profile: yes" in readable.stdout
    assert f"User-Agent: {COVERT_USER_AGENT}" in readable.stdout
    assert "WARNING" not in readable.stdout


def test_ordinary_device_gets_the_warning(gateway: Gateway, tmp_path: Path) -> None:
    result = self_test(gateway, tmp_path, "--source", "127.0.0.1", user="pc1001")
    assert result.returncode == 1, result.stderr
    assert "This device is not on the covert profile" in result.stdout
    assert "Via: 1.1 webwarden" in result.stdout


@pytest.mark.parametrize(("options", "password", "message"), [
    (["--source", "127.0.0.5"], "wrong", "did not accept the user name or password"),
    (["--source", "192.0.2.1"], "demo", "could not ask the proxy"),
])
def test_self_test_failures(gateway: Gateway, tmp_path: Path, options: list[str],
                            password: str, message: str) -> None:
    result = self_test(gateway, tmp_path, *options, password=password)
    assert result.returncode == 2
    assert message in result.stderr


def test_the_page(gateway: Gateway) -> None:
    page = curl(gateway, "http://webwarden.invalid/self-test", user="dc5001",
                interface="127.0.0.5")
    assert status_of(page) == 200
    assert "What a website sees from this device" in body_of(page)
    assert "not on the covert profile" not in body_of(page)
    ordinary = curl(gateway, "http://webwarden.invalid/self-test")
    assert "This device is not on the covert profile: websites see" in body_of(ordinary)


def test_a_covert_request_carries_the_fixed_browser(gateway: Gateway, world: World) -> None:
    result = curl(gateway, "-A", "curl/8.14.1 (x86_64-pc-linux-gnu)", "-H",
                  "Accept-Language: fr-FR", "-H", "X-Webwarden-Device: cs-biu-0005",
                  f"http://{ORIGIN_HOST}:{world.origin.port}/echo", user="dc5001",
                  interface="127.0.0.5")
    assert status_of(result) == 200, result.stdout
    headers = {k.lower(): v for k, v in json.loads(body_of(result))["headers"]}
    assert headers["user-agent"] == COVERT_USER_AGENT
    assert headers["accept-language"] == COVERT_ACCEPT_LANGUAGE
    assert "x-webwarden-device" not in headers and "via" not in headers
