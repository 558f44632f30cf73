"""Downloads (G5) as a person meets them: a link to a file the gateway refuses opens its
block page instead; no download starts."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect
from tests.integration.browser.browsing import (
    LARGE_DOWNLOAD,
    MINUTES,
    PageOpener,
    Sites,
    audit_record,
    downloads_started,
    fact,
    policy_rule,
)
from tests.integration.gateway.conftest import Gateway

pytestmark = [pytest.mark.integration, pytest.mark.browser]


def test_disguised_executable_is_refused(open_page: PageOpener, sites: Sites,
                                         gateway: Gateway) -> None:
    rule = policy_rule(sites.policy, "block-risky-downloads")
    page = open_page("pc1001")
    downloads = downloads_started(page)
    page.goto(sites.url("/start"))

    with page.expect_response(sites.url("/photo.jpg")) as answer:
        page.get_by_role("link", name="Holiday photo").click()

    assert answer.value.status == 403
    assert answer.value.headers["x-webwarden-rule"] == "block-risky-downloads"
    expect(page.get_by_role("heading", level=1)).to_have_text("This download is blocked")
    assert fact(page, "Why") == rule["message"]
    assert fact(page, "Rule and guidance") == f"block-risky-downloads (guidance {rule['clause']})"
    turned_out = fact(page, "What the download turned out to be")
    assert "executable" in turned_out and "image/jpeg" in turned_out
    assert downloads == []
    decision_id = page.locator("dt:text-is('Decision') + dd code").inner_text()
    record = audit_record(gateway, decision_id)
    assert record["rule"]["id"] == ["block-risky-downloads"]
    assert record["http"]["response"]["status_code"] == 403
    assert record["url"]["full"] == sites.url("/photo.jpg")


def test_allowed_files_open_and_download(open_page: PageOpener, sites: Sites) -> None:
    page = open_page("pc1001")
    page.goto(sites.url("/start"))

    with page.expect_response(sites.url("/real.jpg")) as answer:
        page.get_by_role("link", name="Team photo").click()

    assert answer.value.status == 200
    assert answer.value.headers["content-type"] == "image/jpeg"
    expect(page.locator("img")).to_have_count(1)

    page.go_back()
    with page.expect_download() as started:
        page.get_by_role("link", name="Meeting minutes").click()

    download = started.value
    assert download.suggested_filename == "minutes.txt"
    assert download.failure() is None
    assert Path(download.path()).read_bytes() == MINUTES


def test_download_over_the_size_limit_is_refused(open_page: PageOpener, sites: Sites,
                                                 gateway: Gateway) -> None:
    rule = policy_rule(sites.policy, "limit-large-downloads")
    page = open_page("pc1001")
    downloads = downloads_started(page)
    page.goto(sites.url("/start"))
    url = sites.url(f"/large?size={LARGE_DOWNLOAD}")

    with page.expect_response(url) as answer:
        page.get_by_role("link", name="Quarterly figures").click()

    assert answer.value.status == 403
    assert answer.value.headers["x-webwarden-rule"] == "limit-large-downloads"
    # The length the site declared was enough: the body never came through.
    assert len(answer.value.body()) < 10_000
    expect(page.get_by_role("heading", level=1)).to_have_text("This download is blocked")
    assert fact(page, "Rule and guidance") == f"limit-large-downloads (guidance {rule['clause']})"
    assert fact(page, "What the download turned out to be") == (
        f"{LARGE_DOWNLOAD:,} bytes (declared)"
    )
    assert downloads == []
    decision_id = page.locator("dt:text-is('Decision') + dd code").inner_text()
    record = audit_record(gateway, decision_id)
    assert record["rule"]["id"] == ["limit-large-downloads"]
    assert record["url"]["full"] == url
