#!/usr/bin/env python3
"""Compiles the request path's modules (webwarden.compiled.MODULES) with mypyc, in place.

    python scripts/compile.py            # build if the sources changed since the last build
    python scripts/compile.py --force    # build anyway
    python scripts/compile.py --clean    # remove the compiled modules: the sources run
    python scripts/compile.py --strict   # fail (exit 1) instead of falling back to the sources
    python scripts/compile.py --check-tools   # are the compiler, headers and mypyc there?

Run with the project's virtual environment (scripts/venv.sh does). Needs a C compiler and
Python's headers; without them, or if the build fails, it removes whatever it built, says
so and exits 0: webwarden then runs its sources, only slower. Why: see
docs/decisions/0006-compiled-request-path.md.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import sys
import sysconfig
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"
sys.path.insert(0, str(SRC))

from webwarden import compiled  # noqa: E402  (the sources, not an installed copy)

GROUP = "webwarden_compiled"


def group_libraries() -> list[Path]:
    return sorted(SRC.glob(f"{GROUP}__mypyc*"))


def clean() -> None:
    for module in compiled.MODULES:
        for path in compiled.extension_paths(module, SRC):
            path.unlink()
    for path in group_libraries():
        path.unlink()
    with contextlib.suppress(FileNotFoundError):
        compiled.digest_path(SRC).unlink()


def up_to_date() -> bool:
    try:
        present = compiled.check(SRC)
    except compiled.StaleCompiledModulesError:
        return False
    return len(present) == len(compiled.MODULES) and bool(group_libraries())


def missing_tools() -> str | None:
    compiler = (sysconfig.get_config_var("CC") or "cc").split()[0]
    if shutil.which(compiler) is None:
        return f"no C compiler ({compiler})"
    include = Path(sysconfig.get_paths()["include"]) / "Python.h"
    if not include.exists():
        return f"no Python headers ({include})"
    try:
        import mypyc  # noqa: F401
    except ImportError:
        return "mypyc is not installed (it comes with mypy)"
    return None


def build() -> None:
    from mypyc.build import mypycify
    from setuptools import setup

    digest = compiled.source_digest(SRC)
    paths = [str(compiled.source_path(m, Path("."))) for m in compiled.MODULES]
    with tempfile.TemporaryDirectory(prefix="webwarden-mypyc-") as work:
        # setuptools builds "in place" relative to the working directory: the sources'.
        # mypy's cache goes with the rest of the build, not beside the sources.
        os.environ["MYPY_CACHE_DIR"] = str(Path(work) / "mypy-cache")
        previous = Path.cwd()
        os.chdir(SRC)
        try:
            # One C file per module rather than one for the lot.
            extensions = mypycify(paths, opt_level="3", target_dir=work, group_name=GROUP,
                                  multi_file=True)
            setup(
                name="webwarden-compiled",
                ext_modules=extensions,
                script_args=["-q", "build_ext", "--inplace", "--build-temp", work,
                             "--build-lib", work],
            )
        finally:
            os.chdir(previous)
    compiled.digest_path(SRC).write_text(digest + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--force", action="store_true", help="build even if up to date")
    parser.add_argument("--clean", action="store_true", help="remove the compiled modules")
    parser.add_argument("--strict", action="store_true",
                        help="exit 1 when the modules cannot be compiled")
    parser.add_argument("--check-tools", action="store_true",
                        help="only say whether the compiler and headers are there (exit 1 if not)")
    args = parser.parse_args(argv)
    if args.check_tools:
        problem = missing_tools()
        print(problem or "C compiler, Python headers and mypyc are there")
        return 1 if problem else 0
    if args.clean:
        clean()
        print("compiled modules removed: webwarden runs its sources")
        return 0
    if not args.force and up_to_date():
        print(f"compiled modules up to date ({len(compiled.MODULES)})")
        return 0
    clean()
    problem = missing_tools()
    if problem is None:
        print(f"compiling {len(compiled.MODULES)} modules with mypyc (a minute or so)")
        try:
            build()
        except (Exception, SystemExit) as exc:  # setuptools reports errors as SystemExit
            problem = f"the build failed ({exc})"
    if problem is None and not up_to_date():
        problem = "the build did not produce every module"
    if problem is not None:
        clean()
        print(f"webwarden: not compiled: {problem}; the sources run instead (slower: "
              "see docs/decisions/0006-compiled-request-path.md)", file=sys.stderr)
        return 1 if args.strict else 0
    print(f"compiled {len(compiled.MODULES)} modules")
    return 0


if __name__ == "__main__":
    sys.exit(main())
