"""The pages people see: block (G3), notice (G6), sign-in (407), errors and "ask for access".

Rendered from templates/ with Jinja2 autoescaping: every value that came from a request or
a policy is text, never markup.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from urllib.parse import urlencode

import jinja2

from webwarden.model.decision import Decision, NoticeText, RuleRef
from webwarden.model.transaction import Transaction


def format_time(at: datetime) -> str:
    return at.strftime("%Y-%m-%d %H:%M:%S %Z").strip()


def request_access_link(base: str, txn: Transaction, decision: Decision) -> str:
    """The "Ask for access" link: the portal's address with the facts of the block."""
    params = [
        ("url", txn.url),
        ("rule", ",".join(decision.rule_ids)),
        ("clause", ",".join(r.clause for r in decision.rules)),
        ("categories", ",".join(sorted(decision.categories))),
        ("decision", decision.id),
        ("person", txn.principal.id if txn.principal else ""),
        ("device", txn.device.id),
        ("time", txn.at.isoformat(timespec="seconds")),
    ]
    sep = "&" if "?" in base else "?"
    return base + sep + urlencode(params)


def describe_seconds(seconds: int) -> str:
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            n = seconds // size
            return f"{n} {unit}{'s' if n != 1 else ''}"
    return f"{seconds} seconds"


class Pages:
    def __init__(self) -> None:
        self._env = jinja2.Environment(
            loader=jinja2.PackageLoader("webwarden.gateway", "templates"),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
        )

    def _render(self, name: str, **values: object) -> bytes:
        values.setdefault("decision_id", "")
        values.setdefault("time", "")
        return self._env.get_template(name).render(**values).encode("utf-8")

    def block(
        self,
        txn: Transaction,
        decision: Decision,
        request_access_url: str,
        content: str = "",
        *,
        upload: bool = False,
    ) -> bytes:
        """The block page. `content`: what a download turned out to be, or (`upload`) what
        the detectors found in what the person was sending (masked)."""
        if upload:
            title, content_label = "This was not sent", "What was found in it"
        elif content:
            title, content_label = "This download is blocked", "What the download turned out to be"
        else:
            title, content_label = "This page is blocked", ""
        return self._render(
            "block.html",
            title=title,
            content_label=content_label,
            method=txn.method,
            url=txn.url,
            message=decision.message or "The acceptable-use policy does not allow this.",
            rules=decision.rules,
            categories=sorted(decision.categories),
            content=content,
            remedy=decision.remedy,
            decision_id=decision.id,
            time=format_time(txn.at),
            person=txn.principal.id if txn.principal else "",
            device=txn.device.id,
            request_access_url=request_access_link(request_access_url, txn, decision)
            if request_access_url
            else "",
        )

    def notice(
        self,
        notice: NoticeText,
        *,
        url: str,
        token: str,
        accept_url: str,
        scope: str,
        at: datetime,
        message: str = "",
        decision_id: str = "",
    ) -> bytes:
        return self._render(
            "notice.html",
            title=notice.title,
            text=notice.text,
            message=message,
            url=url,
            token=token,
            accept_url=accept_url,
            remember=describe_seconds(notice.remember_seconds) if notice.remember_seconds else "",
            scope=scope,
            decision_id=decision_id,
            time=format_time(at),
        )

    def sign_in(
        self, txn: Transaction, decision: Decision | None, pac_url: str, wrong_password: bool
    ) -> bytes:
        message = (
            "The user name or password given to the gateway was not accepted."
            if wrong_password
            else (decision.message if decision else "")
            or "The gateway needs to know who you are before it forwards anything."
        )
        rules: Sequence[RuleRef] = decision.rules if decision else ()
        return self._render(
            "sign_in.html",
            title="Sign in to the web gateway",
            method=txn.method,
            url=txn.url,
            message=message,
            remedy=decision.remedy if decision else "",
            pac_url=pac_url,
            rules=rules,
            decision_id=decision.id if decision else "",
            time=format_time(txn.at),
        )

    def error(
        self,
        title: str,
        message: str,
        *,
        txn: Transaction | None = None,
        remedy: str = "",
    ) -> bytes:
        return self._render(
            "error.html",
            title=title,
            message=message,
            remedy=remedy,
            method=txn.method if txn else "",
            url=txn.url if txn else "",
            decision_id=txn.decision.id if txn and txn.decision else "",
            time=format_time(txn.at) if txn else "",
        )

    def request_access(self, facts: list[tuple[str, str]], contact: str) -> bytes:
        decision_id = next((v for k, v in facts if k == "Decision"), "")
        return self._render(
            "request_access.html",
            title="Ask for access",
            facts=facts,
            contact=contact,
            decision_id=decision_id,
        )

    def self_test(self, **values: object) -> bytes:
        """The covert self-test page (local_pages, templates/self_test.html)."""
        return self._render("self_test.html", title="What a website sees from this device",
                            **values)

    def admin_index(self, facts: list[tuple[str, str]], pac_url: str) -> bytes:
        return self._render(
            "admin_index.html", title="webwarden gateway", facts=facts, pac_url=pac_url
        )
