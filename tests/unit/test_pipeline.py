"""The pipeline's stages over the shipped policies and the demo directory, with a table of
categories standing in for the index."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import pytest

from webwarden import pipeline
from webwarden.identity.directory import load_directory
from webwarden.identity.shipped import demo_directory_path
from webwarden.inspection.labels import LABELS
from webwarden.model.decision import Effect
from webwarden.model.request import ContentFacts, Destination
from webwarden.model.transaction import AuthStatus, Transaction
from webwarden.policy.decide import decide
from webwarden.policy.load import load_policy_set
from webwarden.policy.shipped import default_policy_paths

WEEKDAY_NOON = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)
BASIC_PC1001 = "Basic cGMxMDAxOmRlbW8="  # pc1001:demo


class Categories:
    version = "test"

    def __init__(self, table: dict[str, frozenset[str]]) -> None:
        self.table = table

    def lookup(self, host: str, path: str = "/") -> frozenset[str]:
        return self.table.get(host, frozenset())


@pytest.fixture(scope="module")
def snapshot(ut1_names: frozenset[str]) -> pipeline.Snapshot:
    return pipeline.Snapshot.build(
        load_policy_set(default_policy_paths(), ut1_names),
        load_directory(demo_directory_path()),
        Categories({"casino.example": frozenset({"gambling"}),
                    "bank.example": frozenset({"bank"})}),
    )


def transaction(host: str = "news.example", client: str = "127.0.0.1",
                method: str = "GET") -> Transaction:
    txn = Transaction(id="t-1", at=WEEKDAY_NOON, client_address=client, method=method)
    txn.destination = Destination("http", host, 80, "/")
    return txn


def run(snapshot: pipeline.Snapshot, txn: Transaction, auth: str | None = BASIC_PC1001):
    pipeline.identify(snapshot, txn, auth)
    pipeline.categorise(snapshot, txn)
    return pipeline.decide_request(snapshot, txn)


def test_identify(snapshot: pipeline.Snapshot) -> None:
    txn = transaction()
    pipeline.identify(snapshot, txn, BASIC_PC1001)
    assert txn.principal is not None and txn.principal.id == "pc1001"
    assert txn.auth_status is AuthStatus.OK and txn.device.id == "ws-lam-0001"
    other = transaction(client="127.0.0.8")
    pipeline.identify(snapshot, other, "Basic bm9ib2R5OngK")
    assert other.principal is None and other.auth_status is AuthStatus.BAD_CREDENTIALS
    assert other.device.id == "unregistered"


def test_identities_answer_what_identify_answers(snapshot: pipeline.Snapshot) -> None:
    """Per connection (credentials) and per worker (devices), the kept answers are the
    answers `identify` gives, and a new snapshot is asked afresh."""
    devices = pipeline.Devices()
    for client, auth in (("127.0.0.1", BASIC_PC1001), ("127.0.0.8", None),
                         ("127.0.0.1", "Basic bm9ib2R5OngK"), ("::1", BASIC_PC1001)):
        connection = pipeline.Identities(devices)
        for _ in range(2):
            kept, plain = transaction(client=client), transaction(client=client)
            connection.identify(snapshot, kept, auth)
            pipeline.identify(snapshot, plain, auth)
            assert (kept.principal, kept.auth_status, kept.device) == (
                plain.principal, plain.auth_status, plain.device
            )
    other = pipeline.Snapshot.build(snapshot.policy, snapshot.directory, snapshot.categories)
    assert devices.device(other, "127.0.0.1") is snapshot.directory.device_for_address(
        "127.0.0.1"
    )


def test_allowed_blocked_and_notice(snapshot: pipeline.Snapshot) -> None:
    allowed = run(snapshot, transaction())
    assert allowed.effect is Effect.ALLOW and allowed.id == "t-1"
    blocked_txn = transaction("casino.example")
    blocked = run(snapshot, blocked_txn)
    assert blocked.effect is Effect.BLOCK and "block-gambling" in blocked.rule_ids
    assert blocked_txn.categories == frozenset({"gambling"})
    notice = run(snapshot, transaction("bank.example"))
    assert notice.effect is Effect.NOTICE and notice.notice_scope == "bank"


def test_sign_in_challenge_only_where_signing_in_could_help(
    snapshot: pipeline.Snapshot
) -> None:
    anonymous = transaction()
    run(snapshot, anonymous, auth=None)
    assert pipeline.challenge_for_credentials(snapshot, anonymous)
    signed_in = transaction("casino.example")
    run(snapshot, signed_in)
    assert not pipeline.challenge_for_credentials(snapshot, signed_in)


def test_content_phase_skip_is_exact(snapshot: pipeline.Snapshot) -> None:
    """For every label the gateway may skip, `decide` itself never blocks, for every
    device of the demo directory and with or without sign-in."""
    clients = ["127.0.0.1", "127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5", "127.0.0.8"]
    people = [BASIC_PC1001, "Basic ZGM1MDAxOmRlbW8=", None]  # pc1001, dc5001, nobody
    for label, client, auth in itertools.product(sorted(LABELS), clients, people):
        txn = transaction(client=client)
        run(snapshot, txn, auth)
        content = ContentFacts(sniffed_type=label, declared_type="text/html", size=1000)
        verdict = pipeline.decide_content(snapshot, txn, content)
        if not pipeline.content_may_block(snapshot, content):
            assert verdict.effect is not Effect.BLOCK, (label, client, auth)
    assert {"executable", "audio", "video"} <= snapshot.content_block_labels


def test_grants_are_indexed_by_person_and_unit(snapshot: pipeline.Snapshot) -> None:
    txn = transaction()
    pipeline.identify(snapshot, txn, BASIC_PC1001)
    assert snapshot.grants_for(txn) == ()
    assert pipeline.connect_ports(snapshot, txn) == frozenset({443})


def test_decide_is_what_the_pipeline_calls(snapshot: pipeline.Snapshot) -> None:
    txn = transaction()
    decision = run(snapshot, txn)
    assert decide(snapshot.policy, pipeline.request_facts(snapshot, txn)) == decision


def test_with_id_copies_every_field(snapshot: pipeline.Snapshot) -> None:
    import dataclasses

    decision = run(snapshot, transaction("bank.example"))
    assert pipeline.with_id(decision, "other") == dataclasses.replace(decision, id="other")
    assert [f.name for f in dataclasses.fields(decision)] == [
        "id", "effect", "rules", "obligations", "categories", "policy_version", "regime",
        "message", "remedy", "notice", "notice_scope", "grants_used", "consents_used",
        "max_body_bytes",
    ], "Decision changed: update pipeline.with_id"


@pytest.mark.parametrize("host, client, auth", [
    ("news.example", "127.0.0.1", BASIC_PC1001),
    ("casino.example", "127.0.0.1", BASIC_PC1001),
    ("bank.example", "127.0.0.2", BASIC_PC1001),
    ("news.example", "127.0.0.8", None),
    ("casino.example", "127.0.0.5", "Basic ZGM1MDAxOmRlbW8="),
])
def test_the_memo_gives_what_decide_gives(
    snapshot: pipeline.Snapshot, host: str, client: str, auth: str | None
) -> None:
    for request_id in ("first", "second"):  # a miss, then a hit
        memo_txn = transaction(host, client)
        memo_txn.id = request_id
        pipeline.identify(snapshot, memo_txn, auth)
        memoised = pipeline.categorise_and_decide(snapshot, memo_txn)
        plain_txn = transaction(host, client)
        plain_txn.id = request_id
        plain = run(snapshot, plain_txn, auth)
        assert memoised == plain
        assert memo_txn.destination == plain_txn.destination
        assert memo_txn.categories == plain_txn.categories
