"""A blocked page as a person meets it (G2, G3): the block page says what was blocked, why,
under which rule and guidance clause, and what to do; "Ask for access" carries those facts
to the request-access page on the gateway's admin port."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from tests.integration.browser.browsing import (
    WORKSTATION,
    PageOpener,
    Sites,
    access_log,
    audit_record,
    fact,
    policy_rule,
)
from tests.integration.gateway.conftest import Gateway

pytestmark = [pytest.mark.integration, pytest.mark.browser]


def test_block_page_explains_and_leads_to_ask_for_access(open_page: PageOpener, sites: Sites,
                                                        gateway: Gateway) -> None:
    rule = policy_rule(sites.policy, "block-gambling")
    page = open_page("pc1001")
    page.goto(sites.url("/start"))

    with page.expect_response("http://gamble.test/") as blocked:
        page.get_by_role("link", name="Tonight's odds").click()

    assert blocked.value.status == 403
    expect(page.get_by_role("heading", level=1)).to_have_text("This page is blocked")
    assert fact(page, "What was blocked") == "GET http://gamble.test/"
    assert fact(page, "Why") == rule["message"]
    assert fact(page, "Rule and guidance") == f"block-gambling (guidance {rule['clause']})"
    assert fact(page, "Categories") == "gambling"
    assert fact(page, "What you can do") == rule["remedy"]
    decision_id = page.locator("dt:text-is('Decision') + dd code").inner_text()
    assert decision_id
    assert fact(page, "Decision").endswith(f", for pc1001, device {WORKSTATION}")
    expect(page.locator("footer")).to_contain_text(f"decision {decision_id}")

    # The audit trail has the same decision.
    record = audit_record(gateway, decision_id)
    assert record["url"]["full"] == "http://gamble.test/"
    assert record["rule"]["id"] == ["block-gambling"]
    assert record["user"]["id"] == "pc1001"
    assert record["http"]["response"]["status_code"] == 403
    assert "gambling" in record["webwarden"]["categories"]

    link = page.get_by_role("link", name="Ask for access")
    assert (link.get_attribute("href") or "").startswith(f"{gateway.admin}/request-access?")
    link.click()

    page.wait_for_url(f"{gateway.admin}/request-access?**")
    expect(page.get_by_role("heading", level=1)).to_have_text("Ask for access")
    assert fact(page, "URL") == "http://gamble.test/"
    assert fact(page, "Rule") == "block-gambling"
    assert fact(page, "Guidance") == rule["clause"]
    assert fact(page, "Categories") == "gambling"
    assert fact(page, "Decision") == decision_id
    assert fact(page, "Person") == "pc1001"
    assert fact(page, "Device") == WORKSTATION
    expect(page.locator("main")).to_contain_text(f"Quote the decision id {decision_id}")
    # The admin page was reached directly, never through the proxy.
    assert "/request-access" not in access_log(gateway)
