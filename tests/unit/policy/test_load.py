"""Every mistake in a policy is reported with file, line and what to fix, and nothing is
loaded."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import POLICIES, UT1_NAMES
from webwarden.policy.load import PolicyError, load_policy_set

MINIMAL = """\
regime: {id: test, name: Test regime, in_force_from: 2020-01-01}
default: {clause: G1, message: Nothing allows this., remedy: Ask for access.}
rules:
  - id: allow-all
    clause: G9
    effect: allow
    when: {authenticated: true}
"""


def _load(tmp_path: Path, text: str) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(text)
    load_policy_set([path], UT1_NAMES)


def _problems(tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(PolicyError) as info:
        _load(tmp_path, text)
    return [str(p) for p in info.value.problems]


def test_minimal_policy_loads(tmp_path: Path) -> None:
    _load(tmp_path, MINIMAL)


def test_shipped_policies_load() -> None:
    policy = load_policy_set(sorted(POLICIES.glob("*.yaml")), UT1_NAMES)
    assert [r.id for r in policy.regimes] == ["2009", "2013"]
    assert len(policy.version) == 16


RULE = """
  - id: extra
    clause: G2
    effect: block
    message: Blocked.
    remedy: Ask.
    when:
"""

BAD_CASES = [
    ("unknown top-level key", MINIMAL + "colour: blue\n", 8, "unknown key 'colour'"),
    ("unknown condition", MINIMAL.replace("authenticated: true", "authenticatd: true"), 7,
     "unknown key 'authenticatd'"),
    ("wrong type", MINIMAL.replace("authenticated: true", "authenticated: maybe"), 7,
     "authenticated"),
    ("unknown category", MINIMAL + RULE + "      categories: [webmial]\n", 15,
     "unknown category 'webmial' (did you mean 'webmail'?)"),
    ("unknown device class", MINIMAL + RULE + "      device_classes: [desktop]\n", 15,
     "device_classes"),
    ("unknown role", MINIMAL + RULE + "      roles: [chief]\n", 15, "unknown role 'chief'"),
    ("unknown qualification", MINIMAL + RULE + "      unqualified: [level9]\n", 15,
     "unknown qualification 'level9'"),
    ("duplicate rule id", MINIMAL + RULE.replace("id: extra", "id: allow-all")
     + "      categories: [webmail]\n", 9, "duplicate rule id 'allow-all'"),
    ("empty list", MINIMAL + RULE + "      categories: []\n", 15, "can never match"),
    ("contradiction", MINIMAL + RULE + "      categories: [webmail]\n"
     "      not_categories: [webmail]\n", 9, "can never match"),
    ("person test without a person", MINIMAL + RULE + "      authenticated: false\n"
     "      person_kinds: [officer]\n", 9, "can never match"),
    ("unknown notice", MINIMAL + RULE.replace("effect: block", "effect: notice")
     .replace("message: Blocked.", "notice: nope"), 12, "unknown notice 'nope'"),
    ("bad size", MINIMAL + RULE + "      size_over: huge\n", 15, "not a size"),
    ("unknown file type", MINIMAL + RULE + "      file_types: [spreadsheet]\n", 15,
     "unknown file type 'spreadsheet'"),
    ("working hours undefined", MINIMAL + RULE + "      working_hours: true\n", 15,
     "no working_hours"),
    ("duplicate key", MINIMAL.replace("    clause: G9\n", "    clause: G9\n    clause: G2\n"),
     6, "duplicate key 'clause'"),
    ("syntax error", MINIMAL + "rules: [\n", 9, "YAML syntax"),
    ("block without message", MINIMAL + RULE.replace("    message: Blocked.\n", "")
     + "      categories: [webmail]\n", 9, "needs a message"),
    ("unknown time zone", MINIMAL + "timezone: Mars/Olympus\n", 8, "unknown time zone"),
]


@pytest.mark.parametrize(("text", "line", "fragment"),
                         [c[1:] for c in BAD_CASES], ids=[c[0] for c in BAD_CASES])
def test_mistakes_are_reported_with_line(tmp_path: Path, text: str, line: int,
                                         fragment: str) -> None:
    problems = _problems(tmp_path, text)
    assert any(fragment in p and f"policy.yaml:{line}:" in p for p in problems), problems


def test_all_files_or_none(tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text(MINIMAL)
    bad = tmp_path / "bad.yaml"
    bad.write_text(MINIMAL.replace("id: test", "id: other").replace("2020", "2021")
                   + "oops: 1\n")
    with pytest.raises(PolicyError) as info:
        load_policy_set([good, bad], UT1_NAMES)
    assert all("bad.yaml" in str(p) for p in info.value.problems)


def test_two_regimes_on_one_day_are_ambiguous(tmp_path: Path) -> None:
    a = tmp_path / "a.yaml"
    a.write_text(MINIMAL)
    b = tmp_path / "b.yaml"
    b.write_text(MINIMAL.replace("id: test", "id: other"))
    with pytest.raises(PolicyError, match="ambiguous"):
        load_policy_set([a, b], UT1_NAMES)


def test_missing_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="cannot read"):
        load_policy_set([tmp_path / "absent.yaml"], UT1_NAMES)


def test_the_gateway_section_says_what_is_never_decrypted(
    tmp_path: Path, ut1_names: frozenset[str]
) -> None:
    from datetime import UTC, datetime

    from webwarden.policy.load import load_policy_set
    from webwarden.sources import SourceError

    good = tmp_path / "good.yaml"
    good.write_text(
        "regime: {id: t, name: T, in_force_from: 2000-01-01}\n"
        "category_groups: {private: [bank, health]}\n"
        "gateway: {never_decrypt: [private, counselling], splice_domains: [pinned.example],"
        " upload_window: 2MiB, past_window: allow}\n"
        "default: {clause: G1, message: No., remedy: Ask.}\n"
        "rules: [{id: use, clause: G9, effect: allow}]\n"
    )
    tls = load_policy_set([good], ut1_names).current_tls(datetime(2026, 1, 1, tzinfo=UTC))
    assert tls.never_decrypt == {"bank", "health", "counselling"}
    assert tls.splices_domain("api.pinned.example") and not tls.splices_domain("xpinned.example")
    assert tls.upload_window == 2 * 1024 * 1024 and not tls.past_window_blocks
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "regime: {id: t, name: T, in_force_from: 2000-01-01}\n"
        "gateway: {never_decrypt: [bnak], upload_window: 1GiB, splice_domains: ['-x-']}\n"
        "default: {clause: G1, message: No., remedy: Ask.}\n"
        "rules: [{id: use, clause: G9, effect: allow}]\n"
    )
    try:
        load_policy_set([bad], ut1_names)
    except SourceError as exc:
        text = str(exc)
    else:
        raise AssertionError("a bad gateway section was accepted")
    assert "upload_window" in text and "splice_domains" in text
