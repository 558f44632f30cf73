"""Pages people see: every value is text, never markup; the facts travel with the link."""

from __future__ import annotations

import html
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

from webwarden.gateway.pages import Pages, describe_seconds, request_access_link
from webwarden.model.decision import Decision, Effect, NoticeText, RuleRef
from webwarden.model.request import Destination
from webwarden.model.transaction import Transaction

DECISION = Decision(
    id="d-1", effect=Effect.BLOCK,
    rules=(RuleRef("block-gambling", "G2", Effect.BLOCK),),
    obligations=frozenset(), categories=frozenset({"gambling"}), policy_version="v",
    regime="2013", message="Gambling <b>is</b> blocked.", remedy="Ask & wait.",
)


def transaction(path: str = "/<script>alert(1)</script>") -> Transaction:
    txn = Transaction(id="d-1", at=datetime(2026, 1, 5, 10, 0, tzinfo=UTC),
                      client_address="127.0.0.1", method="GET")
    txn.destination = Destination("http", "gamble.example", 80, path)
    return txn


def test_block_page_escapes_everything() -> None:
    page = Pages().block(transaction(), DECISION, "http://portal.example/request").decode()
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "<b>is</b>" not in page
    assert "block-gambling" in page and "G2" in page and "gambling" in page
    assert "Ask &amp; wait." in page and "d-1" in page


def test_request_access_link_carries_the_facts() -> None:
    link = request_access_link("http://portal.example/request", transaction("/x?y=1"), DECISION)
    query = parse_qs(urlsplit(link).query)
    assert query["url"] == ["http://gamble.example/x?y=1"]
    assert query["rule"] == ["block-gambling"] and query["clause"] == ["G2"]
    assert query["categories"] == ["gambling"] and query["decision"] == ["d-1"]
    assert query["device"] == ["unregistered"] and query["time"][0].startswith("2026-01-05T10")
    assert "?" in link and link.count("?") == 1
    assert "&url=" in request_access_link("http://p/?a=1", transaction(), DECISION)


def test_notice_page_carries_the_token_in_a_form() -> None:
    notice = NoticeText("n", "Personal banking", "Own risk <i>text</i>", "category", 86400 * 30)
    page = Pages().notice(notice, url="http://bank.example/", token="tok.en",
                          accept_url="http://webwarden.invalid/consent", scope="bank",
                          at=datetime(2026, 1, 5, tzinfo=UTC)).decode()
    assert 'action="http://webwarden.invalid/consent"' in page
    assert 'value="tok.en"' in page
    assert "Own risk &lt;i&gt;text&lt;/i&gt;" in page
    assert "30 days" in page


def test_sign_in_and_error_pages() -> None:
    pages = Pages()
    signin = pages.sign_in(transaction("/"), None, "http://admin/proxy.pac", True).decode()
    assert "not accepted" in signin and "http://admin/proxy.pac" in signin
    error = pages.error("Refused", "Because <reasons>", txn=transaction("/")).decode()
    assert "Because &lt;reasons&gt;" in error


def test_request_access_page() -> None:
    page = Pages().request_access([("URL", "http://x/<y>"), ("Decision", "d-9")], "Call us")
    text = html.unescape(page.decode())
    assert "http://x/<y>" in text and "d-9" in text and "Call us" in text


def test_describe_seconds() -> None:
    assert describe_seconds(86400) == "1 day"
    assert describe_seconds(7200) == "2 hours"
    assert describe_seconds(61) == "61 seconds"
