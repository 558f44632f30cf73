"""HTTPS as a person meets it: Playwright driving Debian's Chromium through a gateway with
interception on and the shipped policy, signing in as demo people. The browser trusts the
gateway's CA the way a managed Linux desktop does (an NSS database in the profile's home,
made with certutil), and the test sites' own CA as it would trust a public one; no
certificate error is ignored.

Screenshots at desktop and phone widths are kept in each test's temporary folder (and
copied to $WEBWARDEN_SCREENSHOTS when set), for people to look at."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright
from tests.integration.gateway.test_gateway_https import HttpsWorld, https  # noqa: F401

pytestmark = [pytest.mark.integration, pytest.mark.browser]

CHROMIUM = Path("/usr/bin/chromium")
CERTUTIL = shutil.which("certutil")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--proxy-bypass-list=<-loopback>"]
SIZES = {"desktop": (1280, 900), "phone": (390, 844)}


@pytest.fixture(scope="module")
def chromium(https: HttpsWorld,  # noqa: F811
             tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    if not CHROMIUM.exists() or CERTUTIL is None:
        if os.environ.get("CI"):
            pytest.fail("chromium and certutil (libnss3-tools) are needed: scripts/test.sh "
                        "installs them")
        pytest.skip("chromium or certutil is not installed (scripts/test.sh installs them)")
    home = tmp_path_factory.mktemp("browser-home")
    nssdb = home / ".pki" / "nssdb"
    nssdb.mkdir(parents=True)
    subprocess.run([CERTUTIL, "-d", f"sql:{nssdb}", "-N", "--empty-password"], check=True)
    for name, pem in (("webwarden gateway CA", https.gateway_ca),
                      ("test sites' CA", https.origin_ca.pem_path)):
        subprocess.run([CERTUTIL, "-d", f"sql:{nssdb}", "-A", "-t", "C,,", "-n", name,
                        "-i", str(pem)], check=True)
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS,
                                             env={**env, "HOME": str(home)})
        yield browser
        browser.close()


def open_as(chromium: Browser, https: HttpsWorld, person: str,  # noqa: F811
            size: str = "desktop") -> Page:
    width, height = SIZES[size]
    context = chromium.new_context(
        proxy={"server": https.gateway.proxy, "username": person, "password": "demo"},
        viewport={"width": width, "height": height},
    )
    context.set_default_timeout(15_000)
    return context.new_page()


def shoot(page: Page, name: str, folder: Path) -> None:
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 5000
    keep = os.environ.get("WEBWARDEN_SCREENSHOTS")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(keep) / path.name)


def test_an_allowed_site_opens_through_the_decrypted_session(
    chromium: Browser, https: HttpsWorld  # noqa: F811
) -> None:
    page = open_as(chromium, https, "pc1001")
    response = page.goto(https.url("shop.test", "/"))
    assert response is not None and response.status == 200
    expect(page.locator("#secure")).to_have_text("Hello over TLS")
    details = response.security_details()
    assert details is not None and details.get("issuer") == "webwarden gateway CA"
    page.context.close()


@pytest.mark.parametrize("size", list(SIZES))
def test_a_blocked_https_site_shows_the_block_page(
    chromium: Browser, https: HttpsWorld, size: str, tmp_path: Path  # noqa: F811
) -> None:
    https.sites.reset()
    page = open_as(chromium, https, "pc1001", size)
    response = page.goto(https.url("gamble.test", "/odds"))
    assert response is not None and response.status == 403
    expect(page.locator("main")).to_contain_text("Gambling")
    assert not https.sites.connections
    shoot(page, f"https-block-{size}", tmp_path)
    page.context.close()


def test_a_bank_shows_the_notice_then_opens_on_its_own_certificate(
    chromium: Browser, https: HttpsWorld, tmp_path: Path  # noqa: F811
) -> None:
    https.bank.reset()
    page = open_as(chromium, https, "insp3001")
    response = page.goto(https.url("bank.test", "/statements?month=11"))
    assert response is not None and response.status == 511
    expect(page.locator("h1")).to_contain_text("Personal secure sessions")
    assert not https.bank.connections, "nothing reaches the bank before acceptance"
    shoot(page, "https-notice-desktop", tmp_path)
    page.get_by_role("button", name="Accept and continue").click()
    expect(page.locator("#bank")).to_have_text("Your bank account")
    assert https.bank.connections, "accepted: the session reaches the bank, spliced"
    # Spliced: the bank's page comes with the bank's own certificate, not one the gateway
    # made (the gateway could not read it if it wanted to).
    again = page.goto(https.url("bank.test", "/statements?month=10"))
    assert again is not None and again.status == 200
    details = again.security_details()
    assert details is not None and details.get("issuer") == "Test Origin Root CA"
    page.context.close()


def test_a_bad_site_certificate_shows_a_page_that_says_so(
    chromium: Browser, https: HttpsWorld, tmp_path: Path  # noqa: F811
) -> None:
    page = open_as(chromium, https, "pc1001", "phone")
    response = page.goto(https.url("expired.test", "/"))
    assert response is not None and response.status == 502
    expect(page.locator("h1")).to_contain_text("certificate is not valid")
    expect(page.locator("main")).to_contain_text("expired")
    shoot(page, "https-certificate-phone", tmp_path)
    page.context.close()


def test_a_post_with_a_protective_marking_is_stopped_in_the_browser(
    chromium: Browser, https: HttpsWorld, tmp_path: Path  # noqa: F811
) -> None:
    https.sites.reset()
    page = open_as(chromium, https, "pc1001")
    page.goto(https.url("social.test", "/"))
    page.evaluate(
        """() => { document.body.innerHTML = '<form method="post" action="/echo">'
        + '<textarea name="status">OFFICIAL-SENSITIVE: shift briefing for Brixton tonight'
        + '</textarea><button>Post</button></form>'; }"""
    )
    with page.expect_response(lambda r: r.url.endswith("/echo")) as posted:
        page.get_by_role("button", name="Post").click()
    assert posted.value.status == 403
    expect(page.locator("main")).to_contain_text("protective marking")
    assert not [r for r in https.sites.requests if r.method == "POST"]
    shoot(page, "https-upload-blocked-desktop", tmp_path)
    page.context.close()
