"""Splice or decrypt (interception.plan_tunnel): the table of rules, case by case."""

from __future__ import annotations

import pytest

from webwarden.interception import TunnelAction, inner_may_forward, plan_tunnel
from webwarden.model.decision import Decision, Effect, Obligation, RuleRef
from webwarden.policy.compiled import TlsSettings

SETTINGS = TlsSettings(
    never_decrypt=frozenset({"bank", "financial", "health"}),
    splice_domains=("pinned.example",),
)


def decision(effect: Effect, *, rules: tuple[str, ...] = ("r",),
             categories: frozenset[str] = frozenset(),
             obligations: frozenset[Obligation] = frozenset()) -> Decision:
    return Decision("d", effect, tuple(RuleRef(r, "G1", effect) for r in rules), obligations,
                    categories, "v", "2013")


ALLOW = decision(Effect.ALLOW)
BLOCK = decision(Effect.BLOCK, rules=("block-gambling",))
NOTICE_BANK = decision(Effect.NOTICE, rules=("secure-session-notice",),
                       categories=frozenset({"bank"}),
                       obligations=frozenset({Obligation.NEVER_DECRYPT}))
ALLOW_BANK = decision(Effect.ALLOW, categories=frozenset({"bank"}))
ALLOW_HEALTH = decision(Effect.ALLOW, categories=frozenset({"health"}))
ALLOW_OBLIGED = decision(Effect.ALLOW, obligations=frozenset({Obligation.NEVER_DECRYPT}))
ALLOW_UPLOADS = decision(Effect.ALLOW, obligations=frozenset({Obligation.INSPECT_UPLOADS}))


@pytest.mark.parametrize(
    ("case", "host", "made", "tls", "sni", "sni_made", "action", "quiet", "fronting"),
    [
        ("an allowed site is decrypted", "shop.example", ALLOW, True, "shop.example", None,
         TunnelAction.DECRYPT, False, False),
        ("no SNI: decided on the CONNECT host", "shop.example", ALLOW, True, None, None,
         TunnelAction.DECRYPT, False, False),
        ("a blocked site: page only", "casino.example", BLOCK, True, "casino.example", None,
         TunnelAction.PAGE_ONLY, False, False),
        ("a bank's notice: page only, metadata only", "bank.example", NOTICE_BANK, True,
         "bank.example", None, TunnelAction.PAGE_ONLY, True, False),
        ("an accepted bank: spliced", "bank.example", ALLOW_BANK, True, "bank.example", None,
         TunnelAction.SPLICE, True, False),
        ("a health service: spliced", "nhs.example", ALLOW_HEALTH, True, None, None,
         TunnelAction.SPLICE, True, False),
        ("the never-decrypt obligation: spliced", "x.example", ALLOW_OBLIGED, True, None,
         None, TunnelAction.SPLICE, True, False),
        ("a pinned application's domain: spliced", "api.pinned.example", ALLOW, True,
         "api.pinned.example", None, TunnelAction.SPLICE, True, False),
        ("not TLS, allowed: relayed as it is", "shop.example", ALLOW, False, None, None,
         TunnelAction.SPLICE, False, False),
        ("not TLS where uploads must be read: refused", "social.example", ALLOW_UPLOADS,
         False, None, None, TunnelAction.REFUSE, True, False),
        ("not TLS, blocked: refused", "casino.example", BLOCK, False, None, None,
         TunnelAction.REFUSE, True, False),
        ("SNI decided like the CONNECT: goes on", "a.example", ALLOW, True, "b.example",
         ALLOW, TunnelAction.DECRYPT, False, False),
        ("SNI decided otherwise: fronting refused", "shop.example", ALLOW, True,
         "casino.example", BLOCK, TunnelAction.PAGE_ONLY, True, True),
        ("a blocked CONNECT cannot be fronted into an allowed site", "casino.example", BLOCK,
         True, "shop.example", ALLOW, TunnelAction.PAGE_ONLY, True, True),
        ("a bank named only in the SNI is decided (and spliced) on the SNI", "cdn.example",
         ALLOW, True, "bank.example", ALLOW_BANK, TunnelAction.SPLICE, True, False),
    ],
)
def test_plan(case: str, host: str, made: Decision, tls: bool, sni: str | None,
              sni_made: Decision | None, action: TunnelAction, quiet: bool,
              fronting: bool) -> None:
    plan = plan_tunnel(SETTINGS, host, made, is_tls=tls, sni=sni, sni_decision=sni_made)
    assert (plan.action, plan.metadata_only, plan.fronting) == (action, quiet, fronting), case
    assert plan.server_name == (sni or host)
    assert plan.reason


def test_the_plan_rests_on_the_sni_decision_when_names_agree() -> None:
    other = decision(Effect.ALLOW, rules=("r",), categories=frozenset({"press"}))
    plan = plan_tunnel(SETTINGS, "a.example", ALLOW, is_tls=True, sni="b.example",
                       sni_decision=other)
    assert plan.decision is other


@pytest.mark.parametrize(
    ("made", "host", "forward"),
    [
        (ALLOW, "shop.example", True),
        (ALLOW_BANK, "bank.example", False),  # accepted notice: sent back to be spliced
        (ALLOW_OBLIGED, "x.example", False),
        (ALLOW, "www.pinned.example", False),
    ],
)
def test_what_may_leave_a_decrypted_session(made: Decision, host: str, forward: bool) -> None:
    assert inner_may_forward(SETTINGS, made, host) is forward
