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
from collections.abc import Callable
from datetime import UTC, datetime

from webwarden.model.decision import Decision
from webwarden.model.people import Device, Principal
from webwarden.model.request import Destination, Facts
from webwarden.policy.compiled import PolicySet
from webwarden.policy.decide import decide

_Key = tuple[object, ...]
Lookup = Callable[[str, str], frozenset[str]]


class DecisionCache:
    __slots__ = (
        "_entries",
        "_lookup",
        "_max",
        "_requests",
        "hits",
        "misses",
        "policy",
    )

    def __init__(
        self, policy: PolicySet, max_entries: int = 1 << 18, lookup: Lookup | None = None
    ) -> None:
        self.policy = policy
        self._entries: dict[_Key, Decision] = {}
        self._requests: dict[_Key, Decision] = {}
        self._max = max_entries
        self._lookup = lookup
        self.hits = 0
        self.misses = 0

    def decide_request(
        self,
        principal: Principal | None,
        device: Device,
        method: str,
        scheme: str,
        host: str,
        port: int,
        path: str,
        now: float,
    ) -> Decision:
        """The request-phase decision for a request with no grants or consents in play,
        from raw values: on a hit no facts are built and `decide` is not run. The cache then
        also belongs to the category index it was given."""
        key = (
            int(now) // 60,
            None if principal is None else principal.id,
            device.id,
            method,
            scheme,
            host,
            port,
            path,
        )
        cached = self._requests.get(key)
        if cached is not None:
            return cached
        if self._lookup is None:
            raise ValueError("decide_request needs the cache to be given a category lookup")
        destination = Destination(scheme, host, port, path, self._lookup(host, path))
        at = datetime.fromtimestamp(now, UTC)
        cached = decide(self.policy, Facts(device, destination, method, at, principal))
        if len(self._requests) >= self._max:
            self._requests.clear()
        self._requests[key] = cached
        return cached

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
