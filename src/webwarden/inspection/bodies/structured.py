"""The text of structured bodies: JSON values with their paths, form fields, XML text."""

from __future__ import annotations

import json
import re
import urllib.parse
from collections.abc import Iterator

from webwarden.inspection.bodies.parts import MAX_VALUES, TextPart
from webwarden.inspection.bodies.xmltext import PlainText, feed_xml

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_JSON_DEPTH = 256  # deeper than any real document; stops a nesting bomb before recursion


def _key(path: str, key: str) -> str:
    return f"{path}.{key}" if _IDENTIFIER.match(key) else f"{path}[{json.dumps(key)}]"


def _json_values(document: object) -> Iterator[tuple[str, str]]:
    """(JSONPath, text) of every string and number, in document order; iterative, so a
    deeply nested document cannot exhaust the stack."""
    stack: list[tuple[str, object, int]] = [("$", document, 0)]
    while stack:
        path, value, depth = stack.pop()
        if isinstance(value, str):
            yield path, value
        elif isinstance(value, bool) or value is None:
            continue
        elif isinstance(value, int | float):
            yield path, repr(value)
        elif depth < _JSON_DEPTH and isinstance(value, dict):
            items = [(_key(path, k), v, depth + 1) for k, v in value.items()]
            stack.extend(reversed(items))
        elif depth < _JSON_DEPTH and isinstance(value, list):
            stack.extend(reversed([(f"{path}[{i}]", v, depth + 1) for i, v in enumerate(value)]))


def capped(values: Iterator[tuple[str, str]], rest_where: str) -> list[tuple[str, str]]:
    """At most `MAX_VALUES` (where, text) pairs: the values after that are joined into one,
    so that nothing goes uninspected and the number of parts stays bounded."""
    kept: list[tuple[str, str]] = []
    rest: list[str] = []
    for where, text in values:
        if len(kept) < MAX_VALUES - 1:
            kept.append((where, text))
        else:
            rest.append(text)
    if rest:
        kept.append((rest_where, "\n".join(rest)))
    return kept


def json_parts(text: str, where: str, media_type: str | None) -> list[TextPart]:
    """One part per JSON string or number value ("JSON $.status"); a body that is not
    valid JSON is one part of its raw text, because a detector can still read that."""
    try:
        document = json.loads(text)
    except (ValueError, RecursionError):  # ValueError includes JSONDecodeError
        return [TextPart(where, text, media_type=media_type)]
    prefix = f"{where} JSON" if where != "body" else "JSON"
    values = capped(
        ((f"{prefix} {path}", value) for path, value in _json_values(document)),
        f"{prefix} (values after the first {MAX_VALUES - 1})",
    )
    return [TextPart(w, t, media_type=media_type) for w, t in values]


def form_parts(
    text: str, where: str, charset: str | None, media_type: str | None
) -> list[TextPart]:
    """One part per field of an application/x-www-form-urlencoded body, percent-decoded
    (the bytes in `charset`, UTF-8 by default) with `+` as a space."""
    try:
        pairs = urllib.parse.parse_qsl(
            text, keep_blank_values=True, encoding=charset or "utf-8", errors="replace"
        )
    except (ValueError, LookupError):
        return [TextPart(where, text, media_type=media_type)]
    prefix = "" if where == "body" else f"{where} "
    values = capped(
        ((f"{prefix}field {name!r}", value) for name, value in pairs),
        f"{prefix}fields after the first {MAX_VALUES - 1}",
    )
    return [TextPart(w, t, media_type=media_type) for w, t in values]


def xml_parts(data: bytes, text: str, where: str, media_type: str | None) -> list[TextPart]:
    """The character data and attribute values of an XML body; its raw text when it does
    not parse or is refused (a DTD or an entity), so that nothing goes unread."""
    reader = PlainText()
    if feed_xml(data, reader) is not None:
        return [TextPart(where, text, media_type=media_type)]
    return [TextPart(where, reader.text(), media_type=media_type)]
