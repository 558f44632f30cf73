"""Comparing where a chain ends in its two copies (records cut off the end)."""

from __future__ import annotations

from webwarden.audit.verify import ChainReport, compare_ends


def _report(chain: str, last: int | None, digest: str = "h") -> ChainReport:
    return ChainReport(chain=chain, count=last or 0, first_seq=1 if last else None,
                       last_seq=last, last_hash=f"{digest}{last}" if last else None)


def test_ends_that_match() -> None:
    [end] = compare_ends([_report("a", 7)], [_report("a", 7), _report("b", 3)])
    assert end.ok and end.behind == 0 and "both end at seq 7" in end.describe()


def test_a_file_cut_short_at_its_end() -> None:
    [end] = compare_ends([_report("a", 5)], [_report("a", 7)])
    assert not end.ok and "records 6..7 were cut" in end.reason


def test_the_database_behind_is_reported_but_not_a_failure() -> None:
    [end] = compare_ends([_report("a", 7)], [_report("a", 5)])
    assert end.ok and end.behind == 2


def test_same_end_different_record() -> None:
    [end] = compare_ends([_report("a", 7)], [_report("a", 7, digest="other")])
    assert not end.ok and "different records" in end.reason


def test_a_chain_missing_from_the_database() -> None:
    [end] = compare_ends([_report("a", 2)], [])
    assert not end.ok and "none of this chain" in end.reason
