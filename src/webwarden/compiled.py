"""The request path's modules compiled to C with mypyc, and the check that they are current.

Every module named in MODULES is plain, typed Python and runs as such. `scripts/compile.py`
(run by scripts/venv.sh) compiles them with mypyc into extension modules beside their
sources, which Python then imports instead of the sources: the worker's CPU per proxied
request falls by about a third (docs/decisions/0006-compiled-request-path.md). Without a C
compiler nothing is compiled and the sources run.

An extension module left over from an older source would run old code while the rest of
the package is new, so the build writes `digest_path()`, a hash of the sources it compiled,
and `check` refuses to go on when an extension module is present and the hash no longer
matches (the `webwarden` command and the test suite call it first).
"""

from __future__ import annotations

import hashlib
import importlib.machinery
from pathlib import Path

SOURCE_ROOT = Path(__file__).resolve().parent.parent

# What every proxied request runs through, and nothing that is monkey-patched, pickled or
# subclassed elsewhere, nor a model that checks outside input (compiled code rejects a
# value of the wrong type with TypeError where the sources would raise their own
# ValueError; the transaction is the gateway's own state). Adding a module: compile, run
# the whole suite against it (tests use the compiled modules when they exist), then add it.
MODULES = (
    "webwarden.gateway.audit_link",
    "webwarden.gateway.context",
    "webwarden.gateway.encoding",
    "webwarden.gateway.heads",
    "webwarden.gateway.http1",
    "webwarden.gateway.metrics",
    "webwarden.gateway.proxy",
    "webwarden.gateway.target",
    "webwarden.gateway.tunnel",
    "webwarden.gateway.upstream",
    "webwarden.inspection.declared",
    "webwarden.inspection.filetype",
    "webwarden.inspection.magic",
    "webwarden.inspection.match",
    "webwarden.identity.proxy_auth",
    "webwarden.model.decision",
    "webwarden.model.transaction",
    "webwarden.pipeline",
    "webwarden.policy.cache",
)


class StaleCompiledModulesError(RuntimeError):
    """Compiled modules are present that were not built from the current sources."""


def digest_path(root: Path = SOURCE_ROOT) -> Path:
    """Where the build leaves the hash of the sources it compiled (not shipped, not
    committed)."""
    return root / "webwarden" / "compiled.digest"


def source_path(module: str, root: Path = SOURCE_ROOT) -> Path:
    return root.joinpath(*module.split(".")).with_suffix(".py")


def extension_paths(module: str, root: Path = SOURCE_ROOT) -> list[Path]:
    """The compiled forms of `module` present beside its source."""
    source = source_path(module, root)
    stem = source.with_suffix("")
    return [
        Path(f"{stem}{suffix}")
        for suffix in importlib.machinery.EXTENSION_SUFFIXES
        if Path(f"{stem}{suffix}").exists()
    ]


def source_digest(root: Path = SOURCE_ROOT, modules: tuple[str, ...] = MODULES) -> str:
    """SHA-256 over the names and sources of `modules`: what a build compiled."""
    digest = hashlib.sha256()
    for module in modules:
        digest.update(module.encode() + b"\0")
        digest.update(source_path(module, root).read_bytes() + b"\0")
    return digest.hexdigest()


def compiled_modules(root: Path = SOURCE_ROOT, modules: tuple[str, ...] = MODULES) -> list[str]:
    """The modules of `modules` that have a compiled form beside their source."""
    return [module for module in modules if extension_paths(module, root)]


def check(root: Path = SOURCE_ROOT, modules: tuple[str, ...] = MODULES) -> list[str]:
    """The compiled modules, after making sure they were built from the sources as they
    are now; raises StaleCompiledModulesError if not."""
    present = compiled_modules(root, modules)
    if not present:
        return present
    try:
        built_from = digest_path(root).read_text().strip()
    except OSError:
        built_from = ""
    if built_from != source_digest(root, modules) or len(present) != len(modules):
        raise StaleCompiledModulesError(
            f"the compiled modules under {root} were not built from the current sources "
            f"(or some are missing); rebuild them with `scripts/venv.sh` (or "
            f"`python scripts/compile.py`), or remove them with `python scripts/compile.py "
            f"--clean` to run the sources"
        )
    return present
