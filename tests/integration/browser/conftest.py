"""Fixtures for the browser tests: one set of sites and one gateway for the whole session,
a Chromium per test module, a fresh browser profile per person and test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, sync_playwright
from tests.integration.browser.browsing import (
    CHROMIUM,
    CHROMIUM_ARGS,
    PageOpener,
    Sites,
    start_browser_gateway,
    start_sites,
)
from tests.integration.gateway.conftest import Gateway


@pytest.fixture(scope="session")
def sites(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sites]:
    sites = start_sites(tmp_path_factory.mktemp("browser-sites"))
    yield sites
    sites.stop()


@pytest.fixture(scope="session")
def gateway(sites: Sites, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    gw = start_browser_gateway(tmp_path_factory.mktemp("browser-gateway"), sites)
    yield gw
    gw.stop()
    assert "Traceback" not in gw.err.read_text(), "the gateway logged an unexpected error"


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    """Debian's Chromium (the test script installs it), never a browser Playwright would
    download. Module scope: the sync API keeps an event loop marked as running in this
    thread while it is started, which other tests' asyncio.run() would trip over."""
    if not CHROMIUM.exists():
        pytest.skip("chromium is not installed (scripts/test.sh installs the Debian package)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def open_page(chromium: Browser, gateway: Gateway) -> Iterator[PageOpener]:
    opener = PageOpener(chromium, gateway)
    yield opener
    opener.close()
