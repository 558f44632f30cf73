"""The ordered stages one transaction goes through, without any I/O of its own.

identity → categories → policy (request phase) → [the gateway forwards] → policy (content
phase) on what the body turned out to be. Each stage reads a `Snapshot` (everything loaded
from files, swapped as a whole on reload) and fills typed slots of the `Transaction`. The
gateway owns the sockets, the clock and the database; it passes in the time (in the
transaction), the Proxy-Authorization value and the person's consents.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

from webwarden.identity.directory import Directory
from webwarden.identity.proxy_auth import ProxyAuthenticator
from webwarden.model.decision import Decision, Effect
from webwarden.model.people import Device, Principal
from webwarden.model.request import Consent, ContentFacts, Destination, Facts, Grant, Phase
from webwarden.model.transaction import AuthStatus, Transaction
from webwarden.policy.cache import DecisionCache
from webwarden.policy.compiled import DEFAULT_DENY, PolicySet
from webwarden.policy.decide import decide


class CategoryLookup(Protocol):
    """What the pipeline needs of a category index."""

    @property
    def version(self) -> str: ...

    def lookup(self, host: str, path: str) -> frozenset[str]: ...


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Everything the stages read, loaded and validated together; replaced as one piece
    when any of its sources changes, so a transaction never sees a half-applied reload."""

    policy: PolicySet
    directory: Directory
    authenticator: ProxyAuthenticator
    categories: CategoryLookup
    grants: tuple[Grant, ...] = ()
    _grants_by_person: dict[str, tuple[Grant, ...]] = field(default_factory=dict)
    _grants_by_unit: dict[str, tuple[Grant, ...]] = field(default_factory=dict)
    content_block_labels: frozenset[str] = frozenset()
    sign_in_rules: dict[str, frozenset[str]] = field(default_factory=dict)
    decisions: DecisionCache | None = None

    @classmethod
    def build(
        cls,
        policy: PolicySet,
        directory: Directory,
        categories: CategoryLookup,
        grants: Iterable[Grant] = (),
        authenticator: ProxyAuthenticator | None = None,
    ) -> Snapshot:
        grants = tuple(grants)
        by_person: dict[str, list[Grant]] = {}
        by_unit: dict[str, list[Grant]] = {}
        for g in grants:
            if g.person_id is not None:
                by_person.setdefault(g.person_id, []).append(g)
            if g.unit is not None:
                by_unit.setdefault(g.unit, []).append(g)
        if authenticator is None or authenticator.directory is not directory:
            authenticator = ProxyAuthenticator(directory)
        return cls(
            policy=policy,
            directory=directory,
            authenticator=authenticator,
            categories=categories,
            grants=grants,
            _grants_by_person={k: tuple(v) for k, v in by_person.items()},
            _grants_by_unit={k: tuple(v) for k, v in by_unit.items()},
            content_block_labels=content_block_labels(policy),
            sign_in_rules={
                regime.id: frozenset(
                    r.id for r in regime.request_rules if r.when.authenticated is False
                )
                for regime in policy.regimes
            },
            # One memo per snapshot: it keys people and devices by id and looks categories
            # up itself, so it is only valid with this policy, directory and index.
            decisions=DecisionCache(policy, lookup=categories.lookup),
        )

    @property
    def version(self) -> str:
        """One string naming every source's version (shown on /healthz)."""
        return (
            f"policy={self.policy.version} directory={self.directory.version} "
            f"categories={self.categories.version} grants={len(self.grants)}"
        )

    def grants_for(self, txn: Transaction) -> tuple[Grant, ...]:
        """Only the grants that could apply to this person: decide need not scan them all."""
        p = txn.principal
        if p is None:
            return ()
        mine = self._grants_by_person.get(p.id, ())
        unit = self._grants_by_unit.get(p.unit, ())
        return mine + unit if unit else mine


def content_block_labels(policy: PolicySet) -> frozenset[str]:
    """File-type labels that some content-phase block rule names, in any regime.

    Why: the content phase can only block through a content rule that matches, and a
    content rule needs a file type, a size or a finding. Sizes are enforced through
    `Decision.max_body_bytes` (the smallest size rule that applies) and downloads carry
    no findings, so for a sniffed label outside this set the content decision cannot be
    a block, and the gateway skips it (tests/unit/test_pipeline.py checks the claim
    against `decide` itself)."""
    labels: set[str] = set()
    for regime in policy.regimes:
        for rule in regime.content_rules:
            if rule.effect is Effect.BLOCK and rule.when.file_types is not None:
                labels |= rule.when.file_types
    return frozenset(labels)


def content_may_block(snapshot: Snapshot, content: ContentFacts) -> bool:
    """False only when `decide_content` would certainly not block (see above)."""
    return bool(content.findings) or content.sniffed_type in snapshot.content_block_labels


def identify(snapshot: Snapshot, txn: Transaction, proxy_authorization: str | None) -> None:
    """Who (Proxy-Authorization) and from which device (the client address)."""
    result = snapshot.authenticator.authenticate(proxy_authorization)
    txn.principal = result.principal
    txn.auth_status = AuthStatus(result.status)
    txn.attempted_user = result.attempted
    txn.device = snapshot.directory.device_for_address(txn.client_address)


_AUTH_STATUS = {status.value: status for status in AuthStatus}


class Devices:
    """The directory's device for each client address, kept for one snapshot and shared by
    every connection of a worker: a connection-close client would otherwise parse its
    address once per request. Addresses are not secrets; credentials are never kept here."""

    __slots__ = ("_devices", "_limit", "_snapshot")

    def __init__(self, limit: int = 65536) -> None:
        self._snapshot: Snapshot | None = None
        self._devices: dict[str, Device] = {}
        self._limit = limit

    def device(self, snapshot: Snapshot, address: str) -> Device:
        if snapshot is not self._snapshot:
            self._snapshot = snapshot
            self._devices = {}
        device = self._devices.get(address)
        if device is None:
            device = snapshot.directory.device_for_address(address)
            if len(self._devices) >= self._limit:
                self._devices.clear()
            self._devices[address] = device
        return device


class Identities:
    """What `identify` found for one client connection, kept while the snapshot and the
    Proxy-Authorization value stay the same: the answer would be the same (the directory
    is immutable and verification deterministic), and a keep-alive connection sends the
    same credentials with every request."""

    __slots__ = ("_attempted", "_auth", "_device", "_devices", "_header", "_snapshot", "_status")

    def __init__(self, devices: Devices | None = None) -> None:
        self._snapshot: Snapshot | None = None
        self._header: str | None = None
        self._auth: Principal | None = None
        self._attempted: str | None = None
        self._status = AuthStatus.MISSING
        self._device: Device | None = None
        self._devices = devices

    def identify(self, snapshot: Snapshot, txn: Transaction, header: str | None) -> None:
        if snapshot is not self._snapshot:
            self._snapshot = snapshot
            devices = self._devices
            self._device = (
                devices.device(snapshot, txn.client_address)
                if devices is not None
                else snapshot.directory.device_for_address(txn.client_address)
            )
            self._header = None
            self._status = AuthStatus.MISSING
        if header != self._header or self._status is AuthStatus.MISSING:
            result = snapshot.authenticator.authenticate(header)
            self._header = header
            self._auth = result.principal
            self._attempted = result.attempted
            self._status = _AUTH_STATUS[result.status]
        assert self._device is not None
        txn.principal = self._auth
        txn.auth_status = self._status
        txn.attempted_user = self._attempted
        txn.device = self._device


def categorise(snapshot: Snapshot, txn: Transaction) -> None:
    """The categories of the destination, written into the transaction and its destination."""
    dest = txn.destination
    if dest is None:
        return
    categories = snapshot.categories.lookup(dest.host, dest.path)
    txn.categories = categories
    if categories:
        txn.destination = Destination(dest.scheme, dest.host, dest.port, dest.path, categories)


def request_facts(
    snapshot: Snapshot, txn: Transaction, consents: tuple[Consent, ...] = ()
) -> Facts:
    assert txn.destination is not None
    return Facts(
        device=txn.device,
        destination=txn.destination,
        method=txn.method,
        at=txn.at,
        principal=txn.principal,
        phase=Phase.REQUEST,
        grants=snapshot.grants_for(txn),
        consents=consents,
        request_id=txn.id,
    )


def decide_request(
    snapshot: Snapshot, txn: Transaction, consents: tuple[Consent, ...] = ()
) -> Decision:
    """The request-phase decision, stored in the transaction."""
    decision = decide(snapshot.policy, request_facts(snapshot, txn, consents))
    txn.decision = decision
    return decision


def categorise_and_decide(snapshot: Snapshot, txn: Transaction) -> Decision:
    """Categories and the request-phase decision, through the snapshot's decision memo when
    no grant is in play (the memo answers exactly what `decide` answers; see
    `policy.cache`). The decision gets this transaction's id either way."""
    memo = snapshot.decisions
    dest = txn.destination
    if memo is None or dest is None or (snapshot.grants and snapshot.grants_for(txn)):
        categorise(snapshot, txn)
        return decide_request(snapshot, txn)
    cached = memo.decide_request(
        txn.principal, txn.device, txn.method, dest.scheme, dest.host, dest.port, dest.path,
        txn.at.timestamp(),
    )
    categories = txn.categories = cached.categories
    if categories:
        txn.destination = Destination(dest.scheme, dest.host, dest.port, dest.path, categories)
    decision = txn.decision = with_id(cached, txn.id)
    return decision


def with_id(d: Decision, decision_id: str) -> Decision:
    """The same decision under another id (each transaction's decision has its own id in
    the audit trail). Positional, because it is twice as fast as dataclasses.replace;
    tests/unit/test_pipeline.py fails if Decision gains a field this does not copy."""
    if d.id == decision_id:
        return d
    return Decision(
        decision_id, d.effect, d.rules, d.obligations, d.categories, d.policy_version,
        d.regime, d.message, d.remedy, d.notice, d.notice_scope, d.grants_used,
        d.consents_used, d.max_body_bytes,
    )


def decide_content(
    snapshot: Snapshot,
    txn: Transaction,
    content: ContentFacts,
    consents: tuple[Consent, ...] = (),
) -> Decision:
    """The content-phase decision on what the body turned out to be (type, size)."""
    facts = dataclasses.replace(
        request_facts(snapshot, txn, consents), phase=Phase.CONTENT, content=content
    )
    decision = decide(snapshot.policy, facts)
    txn.content = content
    txn.content_decision = decision
    return decision


def challenge_for_credentials(snapshot: Snapshot, txn: Transaction) -> bool:
    """Should a block be answered with 407, so the browser asks the person to sign in?
    Only when nobody (validly) signed in and signing in could change the outcome: a rule
    that blocks because the request is unauthenticated spoke, or nothing allowed the
    request (default deny). A block that applies to everyone (gambling) is shown as it is,
    even to someone who has not signed in."""
    decision = txn.decision
    if txn.principal is not None or decision is None or decision.effect is not Effect.BLOCK:
        return False
    if DEFAULT_DENY in decision.rule_ids:
        return True
    sign_in = snapshot.sign_in_rules.get(decision.regime, frozenset())
    return any(rule_id in sign_in for rule_id in decision.rule_ids)


def connect_ports(snapshot: Snapshot, txn: Transaction) -> frozenset[int]:
    """Ports a CONNECT may reach under the regime in force (policy `gateway.connect_ports`)."""
    return snapshot.policy.current_connect_ports(txn.at)
