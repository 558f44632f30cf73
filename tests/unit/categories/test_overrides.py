"""Override files: validation with file and line, and the order they apply in."""

from __future__ import annotations

from pathlib import Path

import pytest

from webwarden.categories.overrides import (
    Operation,
    OverridesError,
    load_overrides,
    parse_overrides,
)

GOOD = """\
# local reclassification
set:
  courses.example.org: [elearning]
  ok.ru: []
add:
  youtube.com: [audio-video, elearning]
  example.net/training: elearning
remove:
  vk.com: [adult]
"""


def test_parse_good_file() -> None:
    overrides = parse_overrides(GOOD, "o.yaml")
    assert overrides.names == {"elearning", "audio-video"}
    assert overrides.removed_names == {"adult"}
    [course] = overrides.domain["courses.example.org"]
    assert (course.operation, course.categories, course.line) == (
        Operation.SET,
        frozenset({"elearning"}),
        3,
    )
    assert overrides.domain["ok.ru"][0].categories == frozenset()
    [training] = overrides.url["example.net"]
    assert (training.path, training.categories) == ("/training", frozenset({"elearning"}))


def test_domain_overrides_least_specific_first() -> None:
    overrides = parse_overrides(
        "set:\n  example.org: [a]\nadd:\n  www.example.org: [b]\n  org: [c]\n"
    )
    found = overrides.domain_overrides("x.www.example.org")
    assert [o.host for o in found] == ["org", "example.org", "www.example.org"]
    assert overrides.domain_overrides("other.com") == ()


def test_same_target_add_then_remove() -> None:
    overrides = parse_overrides("remove:\n  a.example: [x]\nadd:\n  a.example: [y]\n")
    assert [o.operation for o in overrides.domain["a.example"]] == [Operation.ADD, Operation.REMOVE]


def test_digest_ignores_comments_and_order() -> None:
    one = parse_overrides("add:\n  a.example: [x, y]\n  b.example: [z]\n")
    two = parse_overrides("# hi\nadd:\n  b.example: [z]\n  A.example.: [y, x]\n")
    three = parse_overrides("add:\n  a.example: [x]\n  b.example: [z]\n")
    assert one.digest == two.digest != three.digest


@pytest.mark.parametrize("text", ["", "# only a comment\n", "set:\nadd: {}\n"])
def test_empty_files_are_valid(text: str) -> None:
    overrides = parse_overrides(text)
    assert overrides.entries == ()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("set: [", "o.yaml:1: YAML syntax"),
        ("- a\n- b\n", "o.yaml:1: expected a mapping with set, add and/or remove"),
        ("replace:\n  a.example: [x]\n", "o.yaml:1: unknown key 'replace'"),
        ("set:\n  a.example: [x]\nset:\n  b.example: [y]\n", "o.yaml:3: duplicate key 'set'"),
        ("add: [a.example]\n", "o.yaml:1: add: expected a mapping"),
        ("add:\n  a.example: {x: 1}\n", "o.yaml:2: add: expected a list of category names"),
        ("add:\n  a.example: [[x]]\n", "o.yaml:2: add: expected a list of category names"),
        ("add:\n  ok.example: [x]\n  a..example: [x]\n", "o.yaml:3: add: 'a..example': empty"),
        ("add:\n  '*.example': [x]\n", "o.yaml:2: add: '*.example': wildcards"),
        ("add:\n  a.example: [Bad Name]\n", "o.yaml:2: add: bad category name 'Bad Name'"),
        (
            "add:\n  a.example: [x]\n  A.EXAMPLE: [y]\n",
            "o.yaml:3: add: 'A.EXAMPLE' is already listed on line 2",
        ),
        (
            "set:\n  a.example: [x]\nadd:\n  a.example: [y]\n",
            "o.yaml:4: a.example is under 'set' and under 'add'/'remove'",
        ),
    ],
)
def test_errors_name_file_line_and_fix(text: str, message: str) -> None:
    with pytest.raises(OverridesError) as caught:
        parse_overrides(text, "o.yaml")
    assert str(caught.value).startswith(message), str(caught.value)


def test_unknown_removed_category_is_refused() -> None:
    overrides = parse_overrides("remove:\n  a.example: [adlut]\n", "o.yaml")
    with pytest.raises(OverridesError, match=r"o.yaml:2: remove: unknown category 'adlut'"):
        overrides.check_known({"adult"})
    overrides.check_known({"adlut"})
    parse_overrides("add:\n  a.example: [new]\nremove:\n  b.example: [new]\n").check_known(())


def test_load_from_file(tmp_path: Path) -> None:
    path = tmp_path / "overrides.yaml"
    path.write_text(GOOD)
    assert load_overrides(path).source == str(path)
    with pytest.raises(OverridesError, match="no such override file"):
        load_overrides(tmp_path / "missing.yaml")
    path.write_bytes(b"\xff\xfe")
    with pytest.raises(OverridesError, match="cannot read"):
        load_overrides(path)
