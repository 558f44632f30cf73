"""The decision cache answers exactly what `decide` answers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import DEMO_DIRECTORY, UT1_NAMES
from webwarden.identity.directory import load_directory
from webwarden.policy.cache import DecisionCache
from webwarden.policy.decide import decide
from webwarden.policy.load import load_policy_set
from webwarden.policy.scenario import facts_for
from webwarden.policy.shipped import default_policy_paths

DIRECTORY = load_directory(DEMO_DIRECTORY)
POLICY = load_policy_set(default_policy_paths(), UT1_NAMES)
CACHE = DecisionCache(POLICY, max_entries=64)
START = datetime(2009, 3, 2, tzinfo=UTC)


@settings(max_examples=300, deadline=None)
@given(
    user=st.sampled_from([None, *sorted(DIRECTORY.people)]),
    device=st.sampled_from(sorted(DIRECTORY.devices)),
    cats=st.frozensets(st.sampled_from(sorted(UT1_NAMES)), max_size=3),
    minutes=st.integers(0, 60 * 24 * 365 * 6),
    method=st.sampled_from(["GET", "POST", "CONNECT"]),
    rid=st.sampled_from(["", "r1", "r2"]),
)
def test_cache_agrees_with_decide(user: str | None, device: str, cats: frozenset[str],
                                  minutes: int, method: str, rid: str) -> None:
    facts = facts_for(url="http://h.example/p", at=START + timedelta(minutes=minutes, seconds=7),
                      device=DIRECTORY.devices[device],
                      principal=DIRECTORY.person(user) if user else None,
                      method=method, categories=cats, request_id=rid)
    for _ in range(2):  # a miss, then a hit
        got = CACHE.decide(facts)
        assert got == decide(POLICY, facts)
