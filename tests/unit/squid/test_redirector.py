"""Squid's URL-rewrite helper protocol: lines in, answers out."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.conftest import DEMO_DIRECTORY, UT1_NAMES
from webwarden.identity.directory import load_directory
from webwarden.policy.decide import decide
from webwarden.policy.load import load_policy_set
from webwarden.policy.shipped import default_policy_paths
from webwarden.squid.redirector import (
    LineError,
    answer,
    answer_bad_line,
    facts_for_line,
    parse_line,
)

DIRECTORY = load_directory(DEMO_DIRECTORY)
POLICY = load_policy_set(default_policy_paths(), UT1_NAMES)
AT = datetime(2026, 3, 3, 10, tzinfo=UTC)
LISTS = {"mail.example": frozenset({"webmail"}), "bank.example": frozenset({"bank"})}


def lookup(host: str, path: str) -> frozenset[str]:
    return LISTS.get(host, frozenset())


def run(line: str) -> str:
    request = parse_line(line)
    return answer(request, decide(POLICY, facts_for_line(request, DIRECTORY, lookup, AT)),
                  "http://gw.example/blocked")


def test_allowed_is_err() -> None:
    assert run("http://news.example/ 127.0.0.1/- pc1001 GET") == "ERR"


def test_blocked_redirects_with_the_facts() -> None:
    out = run("http://mail.example/inbox 127.0.0.1/localhost pc1001 GET myip=1 myport=2")
    assert out.startswith('OK status=302 url="http://gw.example/blocked?')
    query = parse_qs(urlsplit(out.split('url="', 1)[1].rstrip('"')).query)
    assert query["rule"] == ["block-webmail"] and query["clause"] == ["G2"]
    assert query["url"] == ["http://mail.example/inbox"] and query["categories"] == ["webmail"]


def test_channel_ids_are_echoed_and_connect_is_host_port() -> None:
    out = run("12 bank.example:443 127.0.0.1/- pc1001 CONNECT")
    assert out.startswith("12 OK status=302") and "effect=notice" in out


def test_user_is_unescaped_and_unknown_people_are_nobody() -> None:
    request = parse_line("http://a.example/ 127.0.0.1/- pc%31001 GET")
    assert request.user == "pc1001"
    out = run("http://news.example/ 127.0.0.1/- stranger GET")
    assert "rule=sign-in-required" in out


def test_unregistered_client() -> None:
    assert "unregistered-device" in run("http://news.example/ 192.0.2.9/- pc1001 GET")


@pytest.mark.parametrize("line", ["", "http://a.example/", "7 http://a.example/ 1.2.3.4/-"])
def test_short_lines_are_refused(line: str) -> None:
    with pytest.raises(LineError):
        parse_line(line)


def test_bad_urls_become_bh() -> None:
    request = parse_line("ftp://a.example/ 127.0.0.1/- pc1001 GET")
    with pytest.raises(LineError):
        facts_for_line(request, DIRECTORY, lookup, AT)
    assert answer_bad_line("5 x y", "bad line") == '5 BH message="bad%20line"'
