"""What one list entry is, and what it matches.

* A domain entry (`example.com`) matches the host itself and every subdomain, at a
  label boundary: `a.example.com` yes, `badexample.com` no. An IP entry matches only
  that address.
* A URL entry (`example.com/path`) matches requests to exactly that host, or to the
  host with one leading `www`, `www2`, `web` or `ftp` label (squidGuard's rule; see
  normalise.strip_www_like), whose path starts with the entry's path at a boundary
  (see path_matches). Not other subdomains.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from webwarden.categories.normalise import (
    HostError,
    is_normal_domain,
    normalise_host,
    normalise_path,
)

_SCHEMES = ("http", "https", "ftp")
_WHITESPACE = re.compile(r"\s")


class EntryError(ValueError):
    """A list line that is not a usable entry; the message is the reason."""


@dataclass(frozen=True, slots=True)
class Entry:
    """A normalised entry. `path` is None for a domain entry. `notes` list what was
    adjusted on the way (reported by the importers, never silently)."""

    host: str
    path: str | None
    notes: tuple[str, ...] = ()


def entry_path(raw: str) -> str:
    """Normal form of a URL entry's path: like a request path, with a trailing `/`
    dropped (so `example.com/dir/` also matches `/dir`); the root stays `/`."""
    path = normalise_path(raw)
    while len(path) > 1 and path.endswith("/"):
        path = path[:-1]
    return path


def path_matches(entry: str, request: str) -> bool:
    """Does a URL entry's path match a (normalised) request path?

    Case-sensitive prefix match at a boundary: the request equals the entry, or
    continues with `/`, `?`, `&` or `;`, or the entry itself ends with `?`, `&` or `=`
    (then any continuation matches). `/dir` matches `/dir`, `/dir/x`, `/dir?q=1` but
    not `/directory`; `/page?id=5` matches `/page?id=5&x=1` but not `/page?id=50`.
    """
    if entry == "/":
        return True
    if not request.startswith(entry):
        return False
    if len(request) == len(entry):
        return True
    return entry[-1] in "?&=" or request[len(entry)] in "/?&;"


def parse_entry(text: str, *, url_list: bool) -> Entry:
    """Parse one stripped, non-empty list line.

    In a `urls` list (`url_list=True`) every entry is a URL entry; elsewhere an entry is
    a domain entry unless it has a path (then it becomes a URL entry, with a note).
    """
    if not url_list and is_normal_domain(text):
        return Entry(text, None)
    if _WHITESPACE.search(text):
        raise EntryError("contains whitespace (one entry per line)")
    notes: list[str] = []
    scheme, sep, rest = text.partition("://")
    if sep:
        if scheme.lower() not in _SCHEMES:
            raise EntryError(f"unsupported scheme {scheme!r}")
        notes.append(f"scheme {scheme}:// removed")
        text = rest
    if text.startswith("*."):
        raise EntryError("wildcards are not supported (a domain entry already covers subdomains)")
    if text.startswith(".") and not text.startswith(".."):
        notes.append("leading '.' removed (a domain entry already covers subdomains)")
        text = text[1:]
    cut = len(text)
    for sep_char in "/?#":
        at = text.find(sep_char)
        if 0 <= at < cut:
            cut = at
    netloc, rest = text[:cut], text[cut:]
    if "@" in netloc:
        raise EntryError("user info ('@') is not allowed in an entry")
    if _has_port(netloc):
        notes.append("port ignored (entries apply to every port)")
    try:
        host = normalise_host(netloc)
    except HostError as error:
        raise EntryError(error.reason) from None
    if not url_list and rest in ("", "/"):
        return Entry(host, None, tuple(notes))
    if not url_list:
        notes.append("entry has a path: imported as a URL entry")
    if "#" in rest:
        notes.append("fragment removed (browsers never send it)")
    return Entry(host, entry_path(rest or "/"), tuple(notes))


def _has_port(netloc: str) -> bool:
    if netloc.startswith("["):
        return "]:" in netloc
    return netloc.count(":") == 1
