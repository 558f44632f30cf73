"""Signing in to the gateway from a browser (G1): the browser answers the gateway's 407
challenge with the person's user name and password."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from tests.integration.browser.browsing import (
    PageOpener,
    Sites,
    access_entries,
    audit_records_for,
)
from tests.integration.gateway.conftest import Gateway

pytestmark = [pytest.mark.integration, pytest.mark.browser]


def test_signed_in_person_gets_the_page(open_page: PageOpener, sites: Sites,
                                        gateway: Gateway) -> None:
    page = open_page("pc1001")
    url = sites.url("/welcome?sign-in=right")

    response = page.goto(url)

    assert response is not None and response.status == 200
    expect(page.locator("#origin")).to_have_text("Hello from the origin")
    received = [r for r in list(sites.web.requests) if r.target == "/welcome?sign-in=right"]
    assert len(received) == 1
    # The password stops at the gateway; the site sees only that a proxy passed it on.
    assert received[0].header("proxy-authorization") is None
    assert received[0].header("via") == "1.1 webwarden"
    # Chromium first asks without credentials, then answers the challenge.
    entries = access_entries(gateway, url)
    assert entries[-1].status == 200 and entries[-1].user == "pc1001"
    assert all(e.status == 407 and e.user == "-" for e in entries[:-1])


def test_wrong_password_never_reaches_the_site(open_page: PageOpener, sites: Sites,
                                               gateway: Gateway) -> None:
    page = open_page("pc1001", password="not-my-password")
    url = sites.url("/welcome?sign-in=wrong")

    response = page.goto(url)

    # The browser gives up after the gateway refused the password and shows its page.
    assert response is not None and response.status == 407
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in to the web gateway")
    expect(page.locator("main")).to_contain_text(
        "The user name or password given to the gateway was not accepted."
    )
    expect(page.locator("#origin")).to_have_count(0)
    assert sites.requests_to("/welcome?sign-in=wrong") == []
    # Once without credentials, then at least once with the wrong password: all refused,
    # none attributed to the person whose name was given.
    entries = access_entries(gateway, url, at_least=2)
    assert len(entries) >= 2
    assert {(e.status, e.user) for e in entries} == {(407, "-")}
    records = audit_records_for(gateway, url)
    assert len(records) == len(entries)
    for record in records:
        assert record["http"]["response"]["status_code"] == 407
        assert record["event"]["action"] == "block"
        assert "user" not in record
        assert "destination" not in record
