"""CategoryIndex: the one object the rest of webwarden asks "which categories is this?".

It joins a mapped snapshot and the optional local overrides, and keeps a bounded LRU
cache of per-host answers in front of them: real traffic asks about the same few
thousand hosts again and again, and a cache hit costs far less than normalising,
hashing and searching. The cache is keyed by the host as given (normalisation is
deterministic, so that is equivalent to keying by the normalised host) and holds the
final answer for most hosts; only hosts that have URL entries or URL overrides have
their path looked at on each call.
"""

from __future__ import annotations

import functools
import hashlib
import os
from pathlib import Path
from typing import Any

from webwarden.categories.entries import path_matches
from webwarden.categories.normalise import normalise_host, normalise_path, split_netloc
from webwarden.categories.overrides import Override, Overrides, load_overrides
from webwarden.categories.snapshot import Snapshot, UrlRules

DEFAULT_CACHE_SIZE = 65536


class _PathDependent:
    """What is known about a host whose answer depends on the path (it has URL entries
    or URL overrides). Hosts without such entries are cached as their final frozenset."""

    __slots__ = ("domain_overrides", "listed", "rules", "url_overrides")

    def __init__(
        self,
        listed: frozenset[str],
        rules: UrlRules,
        domain_overrides: tuple[Override, ...],
        url_overrides: tuple[Override, ...],
    ) -> None:
        self.listed = listed
        self.rules = rules
        self.domain_overrides = domain_overrides
        self.url_overrides = url_overrides

    def categories(self, path: str) -> frozenset[str]:
        """Lists first (domain and URL entries), then every matching override."""
        categories = self.listed
        for entry, listed in self.rules:
            if path_matches(entry, path):
                categories |= listed
        for override in self.domain_overrides:
            categories = override.apply(categories)
        for override in self.url_overrides:
            if override.path is not None and path_matches(override.path, path):
                categories = override.apply(categories)
        return categories


class CategoryIndex:
    """Categories of hosts and URLs, from a snapshot plus local overrides. Immutable:
    to change lists or overrides, open a new index and swap the reference."""

    def __init__(
        self,
        snapshot: Snapshot,
        overrides: Overrides | None = None,
        *,
        overrides_file: Path | None = None,
        cache_size: int = DEFAULT_CACHE_SIZE,
    ) -> None:
        if overrides is not None:
            overrides.check_known(snapshot.categories)
        self.snapshot = snapshot
        self.overrides = overrides
        self.names: frozenset[str] = frozenset(snapshot.categories) | (
            overrides.names if overrides else frozenset()
        )
        self.version: str = (
            snapshot.version
            if overrides is None
            else hashlib.blake2b(
                f"{snapshot.version}+{overrides.digest}".encode(), digest_size=8
            ).hexdigest()
        )
        self._overrides_file = overrides_file
        self._overrides_id = _file_id(overrides_file) if overrides_file else None
        self._view = functools.lru_cache(maxsize=cache_size)(self._host_view)

    def lookup(self, host: str, path: str = "/") -> frozenset[str]:
        """Every category of `host` (raw or normalised) and `path`; raises HostError
        for a host that cannot be normalised."""
        view = self._view(host)
        if type(view) is frozenset:
            return view
        assert isinstance(view, _PathDependent)
        return view.categories(normalise_path(path))

    def lookup_url(self, url: str) -> frozenset[str]:
        """Every category of `http://host:port/path?q`, `host/path` or `host:port`;
        raises HostError if there is no usable host in it."""
        netloc, path = split_netloc(url)
        view = self._view(netloc)
        if type(view) is frozenset:
            return view
        assert isinstance(view, _PathDependent)
        return view.categories(normalise_path(path))

    @property
    def path(self) -> Path:
        """The snapshot file this index maps."""
        return self.snapshot.path

    def cache_info(self) -> Any:
        return self._view.cache_info()

    def is_stale(self) -> bool:
        """True if the snapshot file or the override file changed on disk since this
        index was opened (a running gateway then opens a new index and swaps it in)."""
        if _file_id(self.snapshot.path) != self.snapshot.file_id:
            return True
        return self._overrides_file is not None and (
            _file_id(self._overrides_file) != self._overrides_id
        )

    def close(self) -> None:
        self._view.cache_clear()
        self.snapshot.close()

    def __enter__(self) -> CategoryIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _host_view(self, raw_host: str) -> frozenset[str] | _PathDependent:
        host = normalise_host(raw_host)
        listed, rules = self.snapshot.lookup_host(host)
        if self.overrides is None:
            return listed if not rules else _PathDependent(listed, rules, (), ())
        domain_overrides = self.overrides.domain_overrides(host)
        url_overrides = self.overrides.url_overrides(host)
        if rules or url_overrides:
            return _PathDependent(listed, rules, domain_overrides, url_overrides)
        for override in domain_overrides:
            listed = override.apply(listed)
        return listed


def open_index(
    snapshot: Path,
    overrides: Path | None = None,
    *,
    verify: bool = True,
    cache_size: int = DEFAULT_CACHE_SIZE,
) -> CategoryIndex:
    """Open a snapshot file (and an override file) as a CategoryIndex. Raises
    SnapshotError or OverridesError (both CategoryError) with a clear message."""
    loaded = load_overrides(overrides) if overrides is not None else None
    mapped = Snapshot(snapshot, verify=verify)
    try:
        return CategoryIndex(mapped, loaded, overrides_file=overrides, cache_size=cache_size)
    except Exception:
        mapped.close()
        raise


def _file_id(path: Path) -> tuple[int, int, int, int] | None:
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return (stat.st_dev, stat.st_ino, stat.st_mtime_ns, stat.st_size)
