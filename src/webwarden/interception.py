"""Splice or decrypt: what the gateway does with a CONNECT tunnel once it has read the
ClientHello (G3, G6). Pure: decisions and names in, a plan out; tested by tables.

The rules, in the order they apply (the first that matches settles it):

| # | when                                               | plan      | recorded           |
|---|----------------------------------------------------|-----------|--------------------|
| 1 | the first bytes are no TLS ClientHello: allowed,   | splice    | as decided         |
|   | and no upload inspection asked for                 |           |                    |
| 1'| the same, otherwise                                | refuse    | metadata only      |
| 2 | the SNI names another host than the CONNECT and    | page only | metadata only      |
|   | the policy decides the two differently (fronting)  |           |                    |
| 3 | the decision blocks                                | page only | *                  |
| 4 | the decision asks for a notice first               | page only | *                  |
| 5 | allowed, and never decrypted (a category of the    | splice    | metadata only      |
|   | regime's `never_decrypt`, the never-decrypt        |           |                    |
|   | obligation, or a domain on `splice_domains`)       |           |                    |
| 6 | allowed                                            | decrypt   | in full            |

* metadata only when the destination is never decrypted, else in full.

"Page only" decrypts the client side alone, to show the page: nothing is sent upstream,
and a request in that session that the policy now allows (a notice just accepted) is
answered with a redirect on a closing connection, so the browser asks again and the new
tunnel is spliced. Nothing read in a never-decrypt session is recorded beyond its host,
time, bytes and duration.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from webwarden.model.decision import Decision, Effect, Obligation
from webwarden.policy.compiled import TlsSettings


class TunnelAction(StrEnum):
    SPLICE = "splice"  # relay the bytes untouched; never decrypted
    DECRYPT = "decrypt"  # both sides decrypted; each request inside is decided on its own
    PAGE_ONLY = "page-only"  # the client side decrypted to show a page; nothing upstream
    REFUSE = "refuse"  # close the tunnel (not TLS where only TLS may pass)


@dataclass(frozen=True, slots=True)
class TunnelPlan:
    action: TunnelAction
    reason: str
    # The name the client's certificate is minted for: the SNI, else the CONNECT host.
    server_name: str
    # Record host, time, bytes and duration only: no path, header or body.
    metadata_only: bool
    # The decision the plan rests on (the SNI's when that was decided too).
    decision: Decision
    fronting: bool = False


def never_decrypted(settings: TlsSettings, decision: Decision, host: str) -> bool:
    """Is this destination one whose sessions are never read?"""
    return (
        Obligation.NEVER_DECRYPT in decision.obligations
        or bool(decision.categories & settings.never_decrypt)
        or settings.splices_domain(host)
    )


def _same(a: Decision, b: Decision) -> bool:
    return a.effect is b.effect and a.rule_ids == b.rule_ids


def plan_tunnel(
    settings: TlsSettings,
    connect_host: str,
    decision: Decision,
    *,
    is_tls: bool,
    sni: str | None,
    sni_decision: Decision | None,
) -> TunnelPlan:
    """The plan for one tunnel. `decision` is the CONNECT's (on `connect_host`);
    `sni_decision` the same request decided on the SNI's name, when the SNI names another
    host (the caller decides it; None when there is no SNI or it is the same host)."""
    name = sni or connect_host
    if not is_tls:
        if decision.effect is Effect.ALLOW and (
            Obligation.INSPECT_UPLOADS not in decision.obligations
        ):
            return TunnelPlan(TunnelAction.SPLICE, "not TLS: relayed as it is", connect_host,
                              never_decrypted(settings, decision, connect_host), decision)
        return TunnelPlan(TunnelAction.REFUSE, "not TLS, and the policy needs to see inside",
                          connect_host, True, decision)
    if sni is not None and sni_decision is not None and sni != connect_host:
        if not _same(decision, sni_decision):
            return TunnelPlan(
                TunnelAction.PAGE_ONLY,
                f"the tunnel was opened to {connect_host} but the browser asked for {sni}, "
                "and the policy treats the two differently",
                name, True, decision, fronting=True,
            )
        decision = sni_decision
    quiet = never_decrypted(settings, decision, name) or never_decrypted(
        settings, decision, connect_host
    )
    if decision.effect is Effect.BLOCK:
        return TunnelPlan(TunnelAction.PAGE_ONLY, "blocked: decrypted only to show the page",
                          name, quiet, decision)
    if decision.effect is Effect.NOTICE:
        return TunnelPlan(TunnelAction.PAGE_ONLY, "a notice first: decrypted only to show it",
                          name, quiet, decision)
    if quiet:
        return TunnelPlan(TunnelAction.SPLICE, "never decrypted", name, True, decision)
    return TunnelPlan(TunnelAction.DECRYPT, "decrypted for inspection", name, False, decision)


def inner_may_forward(settings: TlsSettings, decision: Decision, host: str) -> bool:
    """May an allowed request inside a decrypted session go upstream? Not to a destination
    that is never decrypted (a notice just accepted in a page-only session, say): the
    browser is sent back to ask again on a new tunnel, which is then spliced. Any other
    allowed request may, even in a session opened to show a page: the policy allowed that
    very URL, and the site may be decrypted."""
    return not never_decrypted(settings, decision, host)
