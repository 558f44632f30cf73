"""A memo in front of `decide` for the gateway's hot path.

Most requests repeat: the same person, device and URL within the same minute. A decision
depends on the time only through the regime (by day), qualification dates (by day) and
working hours (HH:MM), so the minute is an exact key for the clock. Requests that carry
grants, consents or content facts are decided afresh: they are rare and their validity
windows are not minute-aligned.

One cache belongs to one policy set and one directory snapshot: principals and devices are
keyed by id, so the gateway makes a new cache whenever either reloads."""

from __future__ import annotations

import dataclasses

from webwarden.model.decision import Decision
from webwarden.model.request import Facts
from webwarden.policy.compiled import PolicySet
from webwarden.policy.decide import decide

_Key = tuple[object, ...]


class DecisionCache:
    __slots__ = ("_entries", "_max", "hits", "misses", "policy")

    def __init__(self, policy: PolicySet, max_entries: int = 65536) -> None:
        self.policy = policy
        self._entries: dict[_Key, Decision] = {}
        self._max = max_entries
        self.hits = 0
        self.misses = 0

    def decide(self, facts: Facts) -> Decision:
        if facts.grants or facts.consents or facts.content is not None:
            return decide(self.policy, facts)
        d = facts.destination
        p = facts.principal
        key = (
            int(facts.at.timestamp()) // 60,
            None if p is None else p.id,
            facts.device.id,
            facts.method,
            d.scheme,
            d.host,
            d.port,
            d.path,
            d.categories,
            facts.extra_categories,
            facts.phase,
        )
        cached = self._entries.get(key)
        if cached is None:
            self.misses += 1
            cached = decide(self.policy, dataclasses.replace(facts, request_id=""))
            if len(self._entries) >= self._max:
                # Dropping everything is cheaper than LRU bookkeeping on every hit, and the
                # minute in the key retires entries anyway.
                self._entries.clear()
            self._entries[key] = cached
        else:
            self.hits += 1
        if facts.request_id and facts.request_id != cached.id:
            return dataclasses.replace(cached, id=facts.request_id)
        return cached
