"""Facts for a request described in words (a URL, a person, a device, a time), as
`explain` and `policy test` take them. The caller passes the category lookup in, so the
policy package stays free of the category database."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from urllib.parse import urlsplit

from webwarden.model.people import Device, Principal
from webwarden.model.request import ContentFacts, Destination, Facts, Phase

Lookup = Callable[[str, str], frozenset[str]]


class ScenarioError(ValueError):
    """A request that cannot be described: bad URL, unknown person or device."""


def destination_for(url: str, categories: frozenset[str] | None, lookup: Lookup | None
                    ) -> Destination:
    raw = url if "://" in url else f"http://{url}"
    try:
        parts = urlsplit(raw)
        port = parts.port
    except ValueError as exc:
        raise ScenarioError(f"'{url}' is not a URL: {exc}") from exc
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise ScenarioError(f"'{url}': only http and https URLs go through the gateway")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise ScenarioError(f"'{url}' has no host")
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    if categories is None:
        categories = lookup(host, path) if lookup is not None else frozenset()
    return Destination(
        scheme=scheme,
        host=host.lower(),
        port=port if port is not None else (443 if scheme == "https" else 80),
        path=path,
        categories=categories,
    )


def facts_for(
    *,
    url: str,
    at: datetime,
    device: Device,
    principal: Principal | None,
    method: str = "GET",
    categories: frozenset[str] | None = None,
    lookup: Lookup | None = None,
    content: ContentFacts | None = None,
    **extra: object,
) -> Facts:
    if at.tzinfo is None:
        raise ScenarioError("the time needs a zone, e.g. 2026-03-02T10:00:00Z")
    destination = destination_for(url, categories, lookup)
    if method == "CONNECT":
        destination = Destination("https", destination.host, destination.port, "/",
                                  destination.categories)
    return Facts(
        device=device,
        destination=destination,
        method=method,
        at=at,
        principal=principal,
        phase=Phase.CONTENT if content is not None else Phase.REQUEST,
        content=content,
        **extra,  # type: ignore[arg-type]
    )
