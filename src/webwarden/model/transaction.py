"""One transaction through the gateway: a request, what was decided about it and how it ended.

The gateway builds a `Transaction` from a request head and fills its slots as the stages run
(identity, categories, decision, content inspection, forwarding); the audit record is made
from it when it ends. Every fact has a typed slot: there is no free-form metadata dictionary.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from webwarden.model.decision import Decision
from webwarden.model.people import UNREGISTERED_DEVICE, Device, Principal
from webwarden.model.request import ContentFacts, Destination


class AuthStatus(StrEnum):
    """What the Proxy-Authorization header amounted to."""

    OK = "ok"
    MISSING = "missing"
    MALFORMED = "malformed"
    BAD_CREDENTIALS = "bad-credentials"


class Outcome(StrEnum):
    """How a transaction ended, in the words the audit trail uses."""

    FORWARDED = "forwarded"  # the response came from the origin, whole
    TUNNELLED = "tunnelled"  # a CONNECT tunnel carried bytes both ways until one side closed
    BLOCKED = "blocked"  # the policy refused it: block page or refused CONNECT
    NOTICE = "notice"  # the notice interstitial was shown instead (G6)
    AUTH_REQUIRED = "auth-required"  # 407: nobody (or nobody valid) authenticated
    CONSENT_RECORDED = "consent-recorded"  # the person accepted a notice
    LOCAL = "local"  # a page the gateway serves itself (the reserved pages host)
    INVALID = "invalid"  # the request broke the protocol and was refused unread
    REFUSED = "refused"  # a destination or port the gateway never connects to
    UPSTREAM_ERROR = "upstream-error"  # the origin could not be reached or broke off
    CUT = "cut"  # the download was stopped part way (size limit or content decision)
    ABORTED = "aborted"  # the client went away before the response was complete
    UNAVAILABLE = "unavailable"  # not forwarded because the audit trail could not be kept


@dataclass(slots=True)
class Timings:
    """Monotonic seconds (`time.monotonic` scale) at each step; 0.0 = did not happen."""

    started: float = 0.0
    decided: float = 0.0
    upstream_connected: float = 0.0
    response_started: float = 0.0
    finished: float = 0.0

    @property
    def duration(self) -> float:
        return max(0.0, self.finished - self.started) if self.finished else 0.0


@dataclass(slots=True)
class ByteCounts:
    """Bytes seen on each leg: body bytes from the client to the origin and back, plus the
    whole wire bytes sent to the client (heads included), which access.log reports."""

    request_body: int = 0
    response_body: int = 0
    to_client: int = 0
    from_client: int = 0


@dataclass(slots=True)
class Transaction:
    """A request and everything learnt about it. Mutable on purpose: the gateway fills it in
    as it goes, one owner at a time; nothing else holds a reference while it is live."""

    id: str
    at: datetime
    client_address: str
    method: str = "-"
    destination: Destination | None = None
    http_version: str = "1.1"
    principal: Principal | None = None
    auth_status: AuthStatus = AuthStatus.MISSING
    attempted_user: str | None = None  # the name of refused credentials, for the record
    device: Device = UNREGISTERED_DEVICE
    categories: frozenset[str] = frozenset()
    decision: Decision | None = None
    content: ContentFacts | None = None
    content_decision: Decision | None = None
    status: int = 0
    response_type: str = ""  # the Content-Type of what was sent to the client
    outcome: Outcome | None = None
    error: str = ""
    upstream_address: str = ""
    covert: bool = False
    # Record host, time, bytes and duration only (a never-decrypt session, G6), whatever
    # the decision's obligations say.
    metadata_only: bool = False
    timings: Timings = field(default_factory=Timings)
    bytes: ByteCounts = field(default_factory=ByteCounts)

    @property
    def url(self) -> str:
        return self.destination.url if self.destination is not None else ""

    @property
    def final_decision(self) -> Decision | None:
        """The decision that settled the transaction: the content-phase one if there was one."""
        return self.content_decision if self.content_decision is not None else self.decision
