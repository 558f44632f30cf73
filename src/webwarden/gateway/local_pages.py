"""Pages the proxy serves itself on the reserved host `webwarden.invalid` (G6).

They are reached through the proxy, so every request carries the person's own
Proxy-Authorization: that is what binds an acceptance to the person who read the notice.

- `GET /notice?token=T`: the notice and its Accept button (the link a refused CONNECT
  gives, since browsers do not show the body of a refused tunnel);
- `POST /consent` with `token=T`: records the consent, then 303 to the page asked for;
- `GET /self-test`: what a website sees from this device (W3: the covert profile), as a
  page, or as JSON for `Accept: application/json` (`webwarden covert self-test`).
"""

from __future__ import annotations

import dataclasses
import json
import time
from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import parse_qs

from webwarden.gateway.consent_token import ConsentTicket, InvalidTokenError
from webwarden.gateway.context import WorkerContext
from webwarden.gateway.covert_view import CovertView, head_fields, what_destination_sees
from webwarden.gateway.heads import upstream_request_head
from webwarden.gateway.http1 import RequestHead
from webwarden.gateway.target import Target, parse_target
from webwarden.model.decision import NoticeText, Obligation
from webwarden.model.request import Consent, Destination
from webwarden.model.transaction import Outcome, Transaction
from webwarden.pipeline import categorise_and_decide
from webwarden.policy.compiled import PolicySet

# The destination the self-test shows: any ordinary public site would do.
SELF_TEST_SITE = "http://www.example.com/"
JSON = b"application/json"


@dataclass(frozen=True, slots=True)
class LocalAnswer:
    status: int
    body: bytes
    outcome: Outcome
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    content_type: bytes = b"text/html; charset=utf-8"


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
    if path == "/self-test" and req.method in ("GET", "HEAD"):
        return self_test(ctx, txn, req)
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


def covert_for(ctx: WorkerContext, txn: Transaction) -> bool:
    """Would this person on this device get the covert profile for an ordinary site? The
    policy says so (obligation strip-identifying-headers), as for any real request."""
    target = parse_target("GET", SELF_TEST_SITE)
    probe = dataclasses.replace(
        txn, method="GET", decision=None,
        destination=Destination(target.scheme, target.host, target.port, target.path),
    )
    decision = categorise_and_decide(ctx.snapshot, probe)
    return Obligation.STRIP_IDENTIFYING_HEADERS in decision.obligations


def self_test(ctx: WorkerContext, txn: Transaction, req: RequestHead) -> LocalAnswer:
    """What a website sees from the device that asked: its own request, sent on as the
    covert profile would send it."""
    target = parse_target("GET", SELF_TEST_SITE)
    interceptor = ctx.interceptor
    view = what_destination_sees(
        req, target, ctx.config,
        hello_context=interceptor.upstream if interceptor is not None else None,
    )
    covert = covert_for(ctx, txn)
    # What sites see instead when the device is not covert (the warning box).
    normal = head_fields(upstream_request_head(req, target, covert=False, body="none"))
    facts = self_test_facts(ctx, txn, covert, view, normal)
    if JSON in (req.get(b"accept") or b""):
        body = json.dumps(facts, indent=2).encode("utf-8")
        return LocalAnswer(200, body, Outcome.LOCAL, content_type=JSON)
    page = ctx.pages.self_test(
        covert=covert, view=view, normal=normal, device=txn.device.id,
        person=txn.principal.id if txn.principal else "", client_address=txn.client_address,
        site=SELF_TEST_SITE, intercepting=interceptor is not None,
    )
    return LocalAnswer(200, page, Outcome.LOCAL)


def self_test_facts(ctx: WorkerContext, txn: Transaction, covert: bool, view: CovertView,
                    normal: list[tuple[str, str]]) -> dict[str, object]:
    return {
        "covert": covert,
        "device": txn.device.id,
        "device_class": txn.device.device_class.value,
        "person": txn.principal.id if txn.principal else None,
        "client_address": txn.client_address,
        "site": SELF_TEST_SITE,
        "intercepting": ctx.interceptor is not None,
        **view.to_json(),
        "not_covert_fields": [{"name": n, "value": v} for n, v in normal],
    }
