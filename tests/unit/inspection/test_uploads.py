"""An upload read by the detectors: real bodies in, findings and what could not be read out."""

from __future__ import annotations

import gzip
import json

from webwarden.inspection.dlp import DlpRules
from webwarden.inspection.uploads import describe_findings, read_upload, record_findings

RULES = DlpRules.default()
LIMIT = 1 << 20


def test_a_form_post_with_a_marking_and_an_ni_number() -> None:
    body = b"status=OFFICIAL-SENSITIVE%0ASuspect+NI+AB123456C+seen+at+the+address&x=1"
    reading = read_upload(body, "application/x-www-form-urlencoded", None,
                          rules=RULES, limit=LIMIT)
    assert reading.kinds == {"protective-marking", "ni-number"}
    assert not reading.unread
    words = describe_findings(reading.findings)
    assert "field 'status'" in words and "AB123456C" not in words
    record = record_findings(reading.findings)
    assert "ni-number in field 'status'" in record and "AB" not in record


def test_a_compressed_json_post_is_read_through_its_encoding() -> None:
    body = gzip.compress(json.dumps({"text": "Call me on 07911 123456", "n": 1}).encode())
    reading = read_upload(body, "application/json", "gzip", rules=RULES, limit=LIMIT)
    assert reading.kinds == {"uk-phone"}


def test_a_clean_post_finds_nothing() -> None:
    reading = read_upload(b"status=Lovely+day+in+Richmond+Park", "application/"
                          "x-www-form-urlencoded", None, rules=RULES, limit=LIMIT)
    assert reading.findings == () and reading.unread == ()


def test_what_could_not_be_read_is_said() -> None:
    reading = read_upload(b"\x00\x01binary\xff" * 10, "application/octet-stream", "br-ish",
                          rules=RULES, limit=LIMIT, overflowed=True)
    assert reading.unread
    assert any("larger than" in u for u in reading.unread)
