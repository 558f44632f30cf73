"""What the browser tests share: the sites a person browses to, the gateway in front of them,
a Chromium driven by Playwright, and readers for what the gateway recorded.

The origins and the gateway come from the gateway's own integration tests
(tests/integration/gateway: `Servers`, `start_gateway`, `build_test_lists`, `test_policy`),
so both suites exercise the same gateway the same way; only the browser differs.

Addresses (all loopback, as in the gateway tests):
- 127.0.0.20: the plain-HTTP site; its `/bank` paths are listed as a bank, everything else
  is uncategorised. `/start` is a page of links a person clicks through.
- 127.0.0.21: an HTTPS site listed as a bank (self-signed certificate).
- `gamble.test`: listed as gambling; never resolved, since blocked names are not looked up.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import yaml
from playwright.sync_api import Browser, BrowserContext, Download, Page
from tests.integration.gateway.conftest import (
    BANK_HOST,
    ORIGIN_HOST,
    Gateway,
    build_test_lists,
    make_tls_context,
    start_gateway,
    test_policy,
)
from tests.integration.gateway.origin import BANK, Origin, Servers, respond

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    # Chromium sends loopback addresses straight to the site unless told otherwise; the
    # test sites live on loopback, so this makes them go through the gateway too.
    "--proxy-bypass-list=<-loopback>",
]
PASSWORD = "demo"
# The demo directory's workstation address: every page is opened from it.
WORKSTATION = "ws-lam-0001"
MINUTES = b"Minutes of the team meeting: nothing to report.\n"
# Small enough for a test, over the 1 MB download limit of the test policy.
LARGE_DOWNLOAD = 2_000_000

START_PAGE = f"""<!doctype html><title>Intranet links</title><h1>Useful links</h1><ul>
<li><a href="http://gamble.test/">Tonight's odds</a></li>
<li><a href="/bank/account?via=link">My bank account</a></li>
<li><a href="/photo.jpg">Holiday photo</a></li>
<li><a href="/real.jpg">Team photo</a></li>
<li><a href="/minutes.txt">Meeting minutes</a></li>
<li><a href="/large?size={LARGE_DOWNLOAD}">Quarterly figures</a></li>
</ul>
""".encode()


@dataclass
class Sites:
    """The origins a person browses to, with the category lists and policy that name them."""

    servers: Servers
    web: Origin
    bank: Origin
    snapshot: Path
    policy: Path

    def url(self, path: str) -> str:
        return f"http://{ORIGIN_HOST}:{self.web.port}{path}"

    def bank_url(self, path: str = "/") -> str:
        return f"https://{BANK_HOST}:{self.bank.port}{path}"

    def requests_to(self, target: str) -> list[str]:
        """Request targets the plain-HTTP site received that start with `target`."""
        return [r.target for r in list(self.web.requests) if r.target.startswith(target)]

    def stop(self) -> None:
        self.servers.stop()


def start_sites(folder: Path) -> Sites:
    servers = Servers()
    try:
        tls, _cert = make_tls_context(folder)
        web = servers.start_origin(ORIGIN_HOST)
        web.routes["/start"] = lambda req, t: respond(t, 200, START_PAGE)
        web.routes["/minutes.txt"] = lambda req, t: respond(
            t, 200, MINUTES, "text/plain",
            extra="Content-Disposition: attachment; filename=minutes.txt\r\n",
        )
        bank = servers.start_origin(BANK_HOST, tls=tls, page=BANK)
        return Sites(servers, web, bank, build_test_lists(folder), test_policy(folder))
    except BaseException:
        servers.stop()
        raise


def start_browser_gateway(folder: Path, sites: Sites) -> Gateway:
    return start_gateway(
        folder,
        "--policy", str(sites.policy),
        "--categories", str(sites.snapshot),
        "--allow-destination", f"{ORIGIN_HOST}/32",
        "--allow-destination", f"{BANK_HOST}/32",
        "--connect-ports", f"443,{sites.bank.port}",
    )


class PageOpener:
    """Opens pages as one person would: a fresh browser profile (context) whose proxy is
    the gateway, signing in with the person's user name and password when challenged.
    The admin port is reached directly, as the gateway's PAC file arranges."""

    def __init__(self, browser: Browser, gateway: Gateway) -> None:
        self.browser = browser
        self.gateway = gateway
        self.contexts: list[BrowserContext] = []

    def __call__(self, person: str, password: str = PASSWORD) -> Page:
        context = self.browser.new_context(
            proxy={
                "server": self.gateway.proxy,
                "username": person,
                "password": password,
                "bypass": f"127.0.0.1:{self.gateway.admin_port}",
            },
            ignore_https_errors=True,  # the bank's certificate is self-signed
        )
        context.set_default_timeout(15_000)
        self.contexts.append(context)
        return context.new_page()

    def close(self) -> None:
        for context in self.contexts:
            context.close()


def fact(page: Page, label: str) -> str:
    """The value a gateway page lists under `label` (its pages are <dl> lists of facts)."""
    return page.locator(f"dt:text-is('{label}') + dd").inner_text().strip()


def downloads_started(page: Page) -> list[Download]:
    """A list that fills with every download the page starts from now on."""
    started: list[Download] = []

    def record(download: Download) -> None:  # Playwright will not take a bound builtin
        started.append(download)

    page.on("download", record)
    return started


def policy_rule(policy: Path, rule_id: str) -> dict[str, Any]:
    """A rule as the policy file words it, so the tests follow the policy's wording."""
    rules: list[dict[str, Any]] = yaml.safe_load(policy.read_text())["rules"]
    return next(r for r in rules if r["id"] == rule_id)


def policy_notice(policy: Path, notice_id: str) -> dict[str, Any]:
    notice: dict[str, Any] = yaml.safe_load(policy.read_text())["notices"][notice_id]
    return notice


class AccessEntry(NamedTuple):
    """One line of the gateway's Squid-format access.log."""

    status: int
    method: str
    url: str
    user: str


def access_log(gateway: Gateway) -> str:
    path = gateway.state_dir / "logs" / "access.log"
    return path.read_text() if path.exists() else ""


def access_entries(gateway: Gateway, url: str, *, at_least: int = 1,
                   timeout: float = 5.0) -> list[AccessEntry]:
    """The access.log entries for exactly `url`, waiting briefly for `at_least` of them:
    a record is written just after the last byte of its response."""
    deadline = time.monotonic() + timeout
    while True:
        entries = []
        for line in access_log(gateway).splitlines():
            fields = line.split()
            if len(fields) >= 8 and fields[6] == url:
                entries.append(AccessEntry(int(fields[3].rsplit("/", 1)[1]), fields[5],
                                           fields[6], fields[7]))
        if len(entries) >= at_least or time.monotonic() > deadline:
            return entries
        time.sleep(0.05)


def audit_record(gateway: Gateway, decision_id: str, timeout: float = 5.0) -> dict[str, Any]:
    """The ECS audit record of one decision, from the workers' JSON-lines chains."""
    deadline = time.monotonic() + timeout
    while True:
        for chain in sorted((gateway.state_dir / "logs").glob("audit-*.jsonl")):
            for line in chain.read_text().splitlines():
                record: dict[str, Any] = json.loads(line)
                if record["event"]["id"] == decision_id:
                    return record
        if time.monotonic() > deadline:
            raise AssertionError(f"no audit record for decision {decision_id}")
        time.sleep(0.05)


def audit_records_for(gateway: Gateway, url: str) -> list[dict[str, Any]]:
    records = []
    for chain in sorted((gateway.state_dir / "logs").glob("audit-*.jsonl")):
        for line in chain.read_text().splitlines():
            record: dict[str, Any] = json.loads(line)
            if record.get("url", {}).get("full") == url:
                records.append(record)
    return records
