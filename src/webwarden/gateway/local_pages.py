"""Pages the proxy serves itself on the reserved host `webwarden.invalid` (G6).

They are reached through the proxy, so every request carries the person's own
Proxy-Authorization: that is what binds an acceptance to the person who read the notice.

- `GET /notice?token=T`: the notice and its Accept button (the link a refused CONNECT
  gives, since browsers do not show the body of a refused tunnel);
- `POST /consent` with `token=T`: records the consent, then 303 to the page asked for.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import parse_qs

from webwarden.gateway.consent_token import ConsentTicket, InvalidTokenError
from webwarden.gateway.context import WorkerContext
from webwarden.gateway.http1 import RequestHead
from webwarden.gateway.target import Target
from webwarden.model.decision import NoticeText
from webwarden.model.request import Consent
from webwarden.model.transaction import Outcome, Transaction
from webwarden.policy.compiled import PolicySet


@dataclass(frozen=True, slots=True)
class LocalAnswer:
    status: int
    body: bytes
    outcome: Outcome
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)


def find_notice(policy: PolicySet, notice_id: str, txn: Transaction) -> NoticeText | None:
    """The notice called `notice_id`, preferring the regime in force."""
    in_force = policy.in_force(txn.at)
    regimes = ([in_force] if in_force else []) + list(reversed(policy.regimes))
    for regime in regimes:
        for rule in regime.request_rules:
            if rule.notice is not None and rule.notice.id == notice_id:
                return rule.notice
    return None


def _token(query: str) -> str:
    values = parse_qs(query, keep_blank_values=True).get("token", [])
    return values[0] if len(values) == 1 else ""


def _error(ctx: WorkerContext, txn: Transaction, status: int, title: str, message: str
           ) -> LocalAnswer:
    txn.error = message
    return LocalAnswer(status, ctx.pages.error(title, message, txn=txn), Outcome.LOCAL)


async def handle(
    ctx: WorkerContext, txn: Transaction, req: RequestHead, target: Target, body: bytes
) -> LocalAnswer:
    path, _, query = target.path.partition("?")
    if txn.principal is None:
        page = ctx.pages.sign_in(txn, None, ctx.pac_url, wrong_password=False)
        return LocalAnswer(407, page, Outcome.AUTH_REQUIRED)
    person = txn.principal.id
    if path == "/notice" and req.method in ("GET", "HEAD"):
        try:
            ticket = ctx.tokens.verify(_token(query), time.time(), person)
        except InvalidTokenError as exc:
            return _error(ctx, txn, 403, "This notice link cannot be used", str(exc))
        notice = find_notice(ctx.snapshot.policy, ticket.notice_id, txn)
        if notice is None:
            return _error(ctx, txn, 404, "Notice not found",
                          "The policy in force no longer has this notice.")
        page = ctx.pages.notice(
            notice,
            url=ticket.url,
            token=ctx.tokens.issue(ticket),
            accept_url=ctx.pages_origin + "/consent",
            scope=ticket.scope,
            at=txn.at,
        )
        return LocalAnswer(200, page, Outcome.LOCAL)
    if path == "/consent":
        if req.method != "POST":
            return _error(ctx, txn, 405, "Use the Accept button",
                          "A notice is accepted with the button on the notice page.")
        form = parse_qs(body.decode("latin-1"), keep_blank_values=True)
        tokens = form.get("token", [])
        try:
            ticket = ctx.tokens.verify(tokens[0] if len(tokens) == 1 else "", time.time(),
                                       person)
        except InvalidTokenError as exc:
            return _error(ctx, txn, 403, "The acceptance was not recorded", str(exc))
        return await _record(ctx, txn, ticket)
    return _error(ctx, txn, 404, "Not found", "There is no such page on the gateway.")


async def _record(ctx: WorkerContext, txn: Transaction, ticket: ConsentTicket) -> LocalAnswer:
    if ctx.consents is None:
        return _error(ctx, txn, 503, "The acceptance was not recorded",
                      "The gateway has no database to record it in.")
    consent = Consent(
        person_id=ticket.person_id,
        notice=ticket.notice_id,
        scope_kind=ticket.scope_kind,
        scope=ticket.scope,
        accepted=txn.at,
        expires=txn.at + timedelta(seconds=max(1, ticket.remember_seconds)),
    )
    try:
        await ctx.consents.add(consent)
    except Exception as exc:
        return _error(ctx, txn, 503, "The acceptance was not recorded",
                      f"The database refused it ({type(exc).__name__}).")
    txn.error = f"consent recorded: {ticket.notice_id} for {ticket.scope_kind.value} " \
                f"{ticket.scope}"
    body = (
        b"<!doctype html><title>Accepted</title><p>Your acceptance is recorded. "
        b"Continue to the page you asked for.</p>"
    )
    location = ticket.url.encode("ascii", "replace")
    return LocalAnswer(303, body, Outcome.CONSENT_RECORDED, [(b"Location", location)])
