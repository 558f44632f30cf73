"""Headless Chromium through the gateway: pages over HTTP and through CONNECT tunnels,
and the block page as a browser shows it.

Headless Chromium cannot answer the 407 sign-in prompt, so these tests run a second gateway
with a test-only policy (browser-policy.yaml) that lets workstations browse without
signing in. The sign-in, notice and consent flows are covered with curl elsewhere.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.integration.gateway.conftest import (
    ORIGIN_HOST,
    Gateway,
    World,
    clean_env,
    start_gateway,
)

pytestmark = [pytest.mark.integration, pytest.mark.browser]

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="module")
def browser_gateway(world: World, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    tmp = tmp_path_factory.mktemp("browser-gateway")
    gw = start_gateway(
        tmp,
        "--policy", str(HERE / "browser-policy.yaml"),
        "--categories", str(world.snapshot),
        "--allow-destination", f"{ORIGIN_HOST}/32",
        "--connect-ports", f"443,{world.tls_origin.port}",
    )
    yield gw
    gw.stop()


def dump_dom(gateway: Gateway, url: str, profile: Path) -> str:
    if CHROMIUM is None:
        pytest.skip("chromium is not installed (the test script installs the Debian package)")
    argv = [
        CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
        "--no-first-run", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--disable-dev-shm-usage", "--ignore-certificate-errors",
        f"--user-data-dir={profile}",
        f"--proxy-server=http://127.0.0.1:{gateway.proxy_port}",
        "--proxy-bypass-list=<-loopback>",  # loopback goes through the proxy too
        "--dump-dom", url,
    ]
    result = subprocess.run(argv, check=False, capture_output=True, text=True, timeout=90,
                            env=clean_env())
    return result.stdout


def test_browser_gets_a_page_over_http(browser_gateway: Gateway, world: World,
                                       tmp_path: Path) -> None:
    dom = dump_dom(browser_gateway, f"http://{ORIGIN_HOST}:{world.origin.port}/", tmp_path)
    assert "Hello from the origin" in dom


def test_browser_gets_a_page_through_a_tunnel(browser_gateway: Gateway, world: World,
                                              tmp_path: Path) -> None:
    dom = dump_dom(browser_gateway, f"https://{ORIGIN_HOST}:{world.tls_origin.port}/",
                   tmp_path)
    assert "Hello over TLS" in dom


def test_browser_shows_the_block_page(browser_gateway: Gateway, tmp_path: Path) -> None:
    dom = dump_dom(browser_gateway, "http://gamble.test/", tmp_path)
    assert "This page is blocked" in dom
    assert "Gambling sites are blocked" in dom
    assert "block-gambling" in dom
    assert "Ask for access" in dom


def test_browser_download_blocked_by_type(browser_gateway: Gateway, world: World,
                                          tmp_path: Path) -> None:
    dom = dump_dom(browser_gateway, f"http://{ORIGIN_HOST}:{world.origin.port}/photo.jpg",
                   tmp_path)
    assert "This download is blocked" in dom
    assert "executable" in dom
