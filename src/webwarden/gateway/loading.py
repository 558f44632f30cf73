"""Loading what the pipeline reads (policy, directory, categories, grants) and reloading it.

Reload is all or nothing (DESIGN principle 6): everything is loaded and validated off to
the side; only a complete, valid set replaces the one in force, in one assignment. A bad
file is refused with an error naming it, and the previous set stays in force.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from webwarden.categories.index import CategoryIndex, open_index
from webwarden.categories.shipped import default_index_path
from webwarden.gateway.config import GatewayConfig
from webwarden.identity.directory import load_directory
from webwarden.identity.shipped import demo_directory_path
from webwarden.model.request import Grant
from webwarden.pipeline import Snapshot
from webwarden.policy.grants import load_grants
from webwarden.policy.load import load_policy_set
from webwarden.policy.shipped import default_policy_paths

log = logging.getLogger("webwarden.gateway")


class LoadError(Exception):
    """Something the gateway needs could not be loaded; the message says what and where."""


@dataclass(frozen=True, slots=True)
class Sources:
    """The files a snapshot is built from."""

    policies: tuple[Path, ...]
    directory: Path
    categories: Path
    overrides: Path | None
    grants: Path | None

    @classmethod
    def from_config(cls, config: GatewayConfig) -> Sources:
        return cls(
            policies=config.policy_paths or tuple(default_policy_paths()),
            directory=config.directory_path or demo_directory_path(),
            categories=config.categories_path or default_index_path(),
            overrides=config.overrides_path,
            grants=config.grants_path,
        )

    def files(self) -> tuple[Path, ...]:
        extra = tuple(p for p in (self.overrides, self.grants) if p is not None)
        return (*self.policies, self.directory, self.categories, *extra)


def load_categories(sources: Sources) -> CategoryIndex:
    return open_index(sources.categories, sources.overrides)


def load_snapshot(sources: Sources, previous: Snapshot | None = None) -> Snapshot:
    """A complete snapshot from the files, or LoadError saying everything that is wrong."""
    try:
        categories = load_categories(sources)
    except Exception as exc:  # every category error is reported the same way
        raise LoadError(f"categories: {exc}") from exc
    try:
        policy = load_policy_set(list(sources.policies), frozenset(categories.names))
    except Exception as exc:
        raise LoadError(f"policy: {exc}") from exc
    try:
        directory = load_directory(sources.directory)
    except Exception as exc:
        raise LoadError(f"directory: {exc}") from exc
    grants: tuple[Grant, ...] = ()
    if sources.grants is not None:
        try:
            grants = load_grants(sources.grants, policy)
        except Exception as exc:
            raise LoadError(f"grants: {exc}") from exc
    authenticator = None
    if previous is not None and previous.directory.version == directory.version:
        # Keep the verified-credentials cache when the directory did not change.
        authenticator = previous.authenticator
        directory = previous.directory
    return Snapshot.build(policy, directory, categories, grants, authenticator)


def _mtimes(paths: tuple[Path, ...]) -> tuple[tuple[int, int, int] | None, ...]:
    stamps: list[tuple[int, int, int] | None] = []
    for p in paths:
        try:
            st = os.stat(p)
        except OSError:
            stamps.append(None)
        else:
            stamps.append((st.st_mtime_ns, st.st_size, st.st_ino))
    return tuple(stamps)


class Reloader:
    """Holds the snapshot in force and replaces it when asked or when a file changed.

    `load` does the slow part (parsing, validating, mapping) and may run in a thread;
    `install` swaps the result in, in the event loop's thread, in one assignment."""

    def __init__(
        self,
        sources: Sources,
        snapshot: Snapshot,
        on_result: Callable[[bool, str], None] | None = None,
    ) -> None:
        self.sources = sources
        self.snapshot = snapshot
        self.last_error = ""
        self._stamps = _mtimes(sources.files())
        self._on_result = on_result

    def changed(self) -> bool:
        return _mtimes(self.sources.files()) != self._stamps

    def load(self) -> tuple[Snapshot | LoadError, tuple[tuple[int, int, int] | None, ...]]:
        stamps = _mtimes(self.sources.files())
        try:
            return load_snapshot(self.sources, self.snapshot), stamps
        except LoadError as exc:
            return exc, stamps

    def install(
        self, loaded: tuple[Snapshot | LoadError, tuple[tuple[int, int, int] | None, ...]]
    ) -> bool:
        """Put a loaded snapshot in force; a LoadError is logged and changes nothing."""
        result, stamps = loaded
        self._stamps = stamps  # a broken file is not retried every poll, only when changed
        if isinstance(result, LoadError):
            self.last_error = str(result)
            log.error("reload refused, the previous configuration stays in force: %s", result)
            if self._on_result:
                self._on_result(False, str(result))
            return False
        # The old snapshot is not closed: transactions that started on it finish on it,
        # and its category map is released with the last reference.
        self.snapshot = result
        self.last_error = ""
        log.info("reloaded: %s", result.version)
        if self._on_result:
            self._on_result(True, result.version)
        return True

    def reload(self) -> bool:
        """Load and install in one step (tests, tools)."""
        return self.install(self.load())
