"""webwarden.compiled: which modules are compiled, and refusing compiled modules built from
other sources. Each test builds a small source tree with stand-in extension files."""

from __future__ import annotations

import importlib.machinery
from pathlib import Path

import pytest

from webwarden import cli, compiled

MODULES = ("pkg.alpha", "pkg.sub.beta")
SUFFIX = importlib.machinery.EXTENSION_SUFFIXES[0]


def tree(tmp_path: Path) -> Path:
    (tmp_path / "pkg" / "sub").mkdir(parents=True)
    (tmp_path / "pkg" / "alpha.py").write_text("A = 1\n")
    (tmp_path / "pkg" / "sub" / "beta.py").write_text("B = 2\n")
    return tmp_path


def build(root: Path, modules: tuple[str, ...] = MODULES) -> None:
    """What scripts/compile.py leaves: an extension per module and the digest."""
    for module in modules:
        compiled.source_path(module, root).with_suffix(SUFFIX).write_bytes(b"\x7fELF")
    digest_file = compiled.digest_path(root)
    digest_file.parent.mkdir(parents=True, exist_ok=True)
    digest_file.write_text(compiled.source_digest(root, MODULES) + "\n")


def test_sources_only_is_fine(tmp_path: Path) -> None:
    root = tree(tmp_path)
    assert compiled.compiled_modules(root, MODULES) == []
    assert compiled.check(root, MODULES) == []


def test_a_build_from_these_sources_is_used(tmp_path: Path) -> None:
    root = tree(tmp_path)
    build(root)
    assert compiled.check(root, MODULES) == list(MODULES)


def test_a_changed_source_makes_the_build_stale(tmp_path: Path) -> None:
    root = tree(tmp_path)
    build(root)
    (root / "pkg" / "sub" / "beta.py").write_text("B = 3\n")
    with pytest.raises(compiled.StaleCompiledModulesError, match=r"scripts/compile\.py"):
        compiled.check(root, MODULES)


def test_a_missing_digest_or_module_makes_the_build_stale(tmp_path: Path) -> None:
    root = tree(tmp_path)
    build(root)
    compiled.extension_paths("pkg.alpha", root)[0].unlink()
    with pytest.raises(compiled.StaleCompiledModulesError):
        compiled.check(root, MODULES)
    build(root)
    compiled.digest_path(root).unlink()
    with pytest.raises(compiled.StaleCompiledModulesError):
        compiled.check(root, MODULES)


def test_the_digest_covers_names_and_sources(tmp_path: Path) -> None:
    root = tree(tmp_path)
    first = compiled.source_digest(root, MODULES)
    assert compiled.source_digest(root, MODULES[:1]) != first
    (root / "pkg" / "alpha.py").write_text("A = 1  \n")
    assert compiled.source_digest(root, MODULES) != first


def test_every_named_module_exists() -> None:
    for module in compiled.MODULES:
        assert compiled.source_path(module).is_file(), module


POLICY = Path(__file__).resolve().parents[2] / "policies" / "2013.yaml"


def test_the_command_refuses_to_run_a_stale_build(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["policy", "check", str(POLICY)]) == 0
    capsys.readouterr()

    def stale() -> list[str]:
        raise compiled.StaleCompiledModulesError("built from other sources")

    monkeypatch.setattr(cli.compiled, "check", stale)
    assert cli.main(["policy", "check", str(POLICY)]) == 2
    out = capsys.readouterr()
    assert "built from other sources" in out.err
    assert "ok:" not in out.out
