"""What is being asked for: destination, content facts, grants and consents."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from webwarden.model.people import Device, Principal


class Phase(StrEnum):
    """`request` decides on the head; `content` once more on what the body turned out to be."""

    REQUEST = "request"
    CONTENT = "content"


@dataclass(frozen=True, slots=True)
class Destination:
    """Where the request goes. `host` is normalised (lower case, punycode, no trailing dot)."""

    scheme: str
    host: str
    port: int
    path: str = "/"
    categories: frozenset[str] = frozenset()

    @property
    def url(self) -> str:
        default = {"http": 80, "https": 443}.get(self.scheme)
        netloc = self.host if self.port == default else f"{self.host}:{self.port}"
        if ":" in self.host and not self.host.startswith("["):
            netloc = f"[{self.host}]" if self.port == default else f"[{self.host}]:{self.port}"
        return f"{self.scheme}://{netloc}{self.path}"


@dataclass(frozen=True, slots=True)
class ContentFacts:
    """What inspection learnt about a body: the sniffed file type (from magic bytes), the
    declared Content-Type, the size (declared or counted) and detector findings."""

    sniffed_type: str | None = None
    declared_type: str | None = None
    size: int | None = None
    findings: frozenset[str] = frozenset()


class GrantScopeKind(StrEnum):
    DOMAIN = "domain"
    URL_PREFIX = "url-prefix"
    CATEGORY = "category"
    FILE_TYPE = "file-type"


@dataclass(frozen=True, slots=True)
class Grant:
    """An approved exception. It lifts exactly the rules named in `lifts`, for the person
    (or everyone in the unit), for the destination in `scope`, between `starts` and `ends`."""

    id: str
    lifts: frozenset[str]
    scope_kind: GrantScopeKind
    scope: str
    starts: datetime
    ends: datetime | None
    person_id: str | None = None
    unit: str | None = None
    approved_by: str = ""
    reason: str = ""


class ConsentScopeKind(StrEnum):
    CATEGORY = "category"
    SITE = "site"


@dataclass(frozen=True, slots=True)
class Consent:
    """A person's acceptance of a notice, for a category or a site, until `expires`."""

    person_id: str
    notice: str
    scope_kind: ConsentScopeKind
    scope: str
    accepted: datetime
    expires: datetime


@dataclass(frozen=True, slots=True)
class Facts:
    """Everything `decide` may look at. `at` is passed in: the engine never reads a clock.

    `principal` is None when nobody authenticated. `request_id` names the decision.
    """

    device: Device
    destination: Destination
    method: str
    at: datetime
    principal: Principal | None = None
    phase: Phase = Phase.REQUEST
    content: ContentFacts | None = None
    grants: tuple[Grant, ...] = ()
    consents: tuple[Consent, ...] = ()
    request_id: str = ""
    extra_categories: frozenset[str] = field(default_factory=frozenset)


# The file-type labels that inspection assigns and policies may name (G5).
FILE_TYPES: frozenset[str] = frozenset(
    {
        "executable",
        "active-code",
        "archive",
        "audio",
        "video",
        "image",
        "document",
        "game",
        "text",
        "html",
        "unknown",
    }
)
