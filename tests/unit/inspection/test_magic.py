"""The fast paths of `identify` and `is_binary` answer exactly what the plain versions do.

`identify` tries only the signatures whose first byte matches the head's, and `is_binary`
proves text by deleting bytes rather than searching: both are checked here against the
straightforward definitions, on every head the file-type tests use and on random bytes.
"""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.inspection.test_filetype import CONTENT
from webwarden.inspection import magic
from webwarden.inspection.match import Match, is_binary

_BINARY = re.compile(rb"[\x00-\x08\x0b\x0e-\x1a\x1c-\x1f]")


def reference_identify(head: bytes) -> Match:
    """`identify` as written before the tables were split by first byte: every prefix and
    every check, in order."""
    if not head:
        return magic.EMPTY
    for prefix, label, mime, detail in magic._PREFIXES:
        if head.startswith(prefix):
            if prefix in magic._NEEDS_BINARY and _BINARY.search(head[:1024]) is None:
                break
            return Match(label, mime, detail)
    for check, _first in magic._SIGNATURE_CHECKS:
        found = check(head)
        if found is not None:
            return found
    text = magic._text(head)
    if text is not None:
        return text
    for check, _first in magic._BINARY_CHECKS:
        found = check(head)
        if found is not None:
            return found
    return magic.BINARY


SEEDS = [head for head, *_ in CONTENT] + [
    b"",
    b"<!DOCTYPE html><html>",
    b"<?xml version='1.0'?><svg xmlns='x'>",
    b"  <SVG>",
    b"MAC text that is text",
    b"fLaC\x00\x00",
    b"%PDF-1.7\n",
    b"\x00\x00\x01\x00\x01\x00\x10\x10\x00\x00",
]


def test_every_known_head_gets_the_reference_answer() -> None:
    for head in SEEDS:
        assert magic.identify(head) == reference_identify(head), head[:16]


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(SEEDS), st.binary(max_size=300), st.integers(0, 600), st.binary(max_size=8))
def test_mutated_heads_get_the_reference_answer(
    seed: bytes, tail: bytes, at: int, patch: bytes
) -> None:
    head = bytearray(seed + tail)
    head[at : at + len(patch)] = patch
    data = bytes(head)
    assert magic.identify(data) == reference_identify(data)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=700))
def test_random_heads_get_the_reference_answer(head: bytes) -> None:
    assert magic.identify(head) == reference_identify(head)


@settings(max_examples=200, deadline=None)
@given(st.binary(min_size=1, max_size=400))
def test_checks_never_match_outside_their_first_bytes(head: bytes) -> None:
    for check, first in (*magic._SIGNATURE_CHECKS, *magic._BINARY_CHECKS):
        if first is None:
            continue
        for byte in range(256):
            if byte not in first:
                assert check(bytes([byte]) + head[1:]) is None, (check.__name__, byte)


@settings(max_examples=300, deadline=None)
@given(
    st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=300),
    st.integers(0, 320),
    st.sampled_from([b"", b"\x00", b"\x1b", b"\x0b", b"\x1f", b"\x7f", b"\xff", b"\t\r\n"]),
)
def test_is_binary_matches_the_definition(text: str, at: int, byte: bytes) -> None:
    data = bytearray(text.encode("ascii"))
    data[at:at] = byte
    assert is_binary(bytes(data)) == (_BINARY.search(bytes(data)) is not None)
