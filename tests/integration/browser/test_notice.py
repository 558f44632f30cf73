"""Personal banking (G6) as a person meets it: the notice interstitial, "Accept and
continue", then the bank's pages over plain HTTP and through a CONNECT tunnel.

Each test uses its own person: a consent is the person's, kept by the gateway for 30 days,
and would otherwise carry over from one test to the next."""

from __future__ import annotations

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect
from tests.integration.browser.browsing import (
    PageOpener,
    Sites,
    access_entries,
    audit_records_for,
    policy_notice,
    policy_rule,
)
from tests.integration.gateway.conftest import BANK_HOST, ORIGIN_HOST, Gateway

pytestmark = [pytest.mark.integration, pytest.mark.browser]

CONSENT_URL = "http://webwarden.invalid/consent"


def test_notice_then_accept_then_bank_pages_load(open_page: PageOpener, sites: Sites,
                                                 gateway: Gateway) -> None:
    person = "ps2001"
    notice = policy_notice(sites.policy, "personal-secure-session")
    page = open_page(person)

    # Over HTTPS first, the browser can only say the tunnel failed: it never shows what a
    # proxy answers to CONNECT, so the notice cannot be seen there.
    tab = page.context.new_page()
    with pytest.raises(PlaywrightError, match="ERR_TUNNEL_CONNECTION_FAILED"):
        tab.goto(sites.bank_url("/?before=consent"))
    tab.close()
    tunnel = f"{BANK_HOST}:{sites.bank.port}"
    assert [(e.status, e.user) for e in access_entries(gateway, tunnel)][-1] == (403, person)

    page.goto(sites.url("/start"))
    before = len(sites.requests_to("/bank/"))
    with page.expect_response(sites.url("/bank/account?via=link")) as interstitial:
        page.get_by_role("link", name="My bank account").click()

    assert interstitial.value.status == 511
    expect(page.get_by_role("heading", level=1)).to_have_text(notice["title"])
    expect(page.locator(".notice")).to_have_text(notice["text"].strip())
    expect(page.locator("main")).to_contain_text(
        policy_rule(sites.policy, "secure-session-notice")["message"]
    )
    expect(page.locator("main")).to_contain_text("remembered for 30 days for bank")
    assert len(sites.requests_to("/bank/")) == before, "the bank was reached before consent"

    page.get_by_role("button", name="Accept and continue").click()

    consent = [e for e in access_entries(gateway, CONSENT_URL) if e.user == person]
    assert [(e.method, e.status) for e in consent] == [("POST", 303)]

    # From now on the bank's pages open straight away, over HTTP ...
    response = page.goto(sites.url("/bank/account?after=consent"))
    assert response is not None and response.status == 200
    expect(page.locator("#bank")).to_have_text("Your bank account")
    assert sites.requests_to("/bank/account?after=consent") == ["/bank/account?after=consent"]
    # ... recorded as the site only (log-metadata-only), with the consent that let it through.
    site = f"http://{ORIGIN_HOST}:{sites.web.port}"
    visits = [r for r in audit_records_for(gateway, site)
              if r.get("user", {}).get("id") == person]
    assert [r["http"]["response"]["status_code"] for r in visits][:1] == [511]
    allowed = [r for r in visits if r["http"]["response"]["status_code"] == 200]
    assert allowed and all(r["webwarden"]["consent_ids"] for r in allowed)

    # ... and over HTTPS, through a tunnel, since the consent covers the bank category.
    before_connections = len(sites.bank.connections)
    response = page.goto(sites.bank_url("/?after=consent"))
    assert response is not None and response.status == 200
    expect(page.locator("#bank")).to_have_text("Your bank account")
    assert len(sites.bank.connections) > before_connections
    assert (200, person) in [(e.status, e.user) for e in access_entries(gateway, tunnel)]


def test_accept_and_continue_lands_on_the_page_asked_for(open_page: PageOpener,
                                                         sites: Sites) -> None:
    page = open_page("insp3001")
    url = sites.url("/bank/account?via=accept")
    response = page.goto(url)
    assert response is not None and response.status == 511

    with page.expect_navigation(url=url, timeout=10_000):
        page.get_by_role("button", name="Accept and continue").click()

    expect(page.locator("#bank")).to_have_text("Your bank account")
