"""Reading list files line by line: decoding, comments, size limits. Shared by importers."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from webwarden.categories.entries import EntryError, parse_entry
from webwarden.categories.importers.result import ImportResult

MAX_LINE_BYTES = 4096


def content_lines(
    stream: Iterable[bytes], source: str, result: ImportResult
) -> Iterator[tuple[int, str]]:
    """Yield (line number, text) for lines that carry an entry; reject undecodable or
    over-long lines. A `#` starts a comment at the start of a line or after whitespace
    (elsewhere it may be a URL fragment)."""
    for number, raw in enumerate(stream, 1):
        result.lines += 1
        if len(raw) > MAX_LINE_BYTES:
            result.reject(
                source,
                number,
                raw[:80].decode("utf-8", "replace") + "…",
                f"line longer than {MAX_LINE_BYTES} bytes",
            )
            continue
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            result.reject(source, number, raw.decode("utf-8", "replace"), "not valid UTF-8")
            continue
        if number == 1:
            text = text.removeprefix("\ufeff")
        text = strip_comment(text).strip()
        if text:
            yield number, text


def strip_comment(text: str) -> str:
    if "#" not in text:
        return text
    if text.lstrip().startswith("#"):
        return ""
    for marker in (" #", "\t#"):
        at = text.find(marker)
        if at >= 0:
            text = text[:at]
    return text


def import_entry_lines(
    stream: Iterable[bytes], source: str, category: str, *, url_list: bool, result: ImportResult
) -> None:
    """Import a file of one entry per line (UT1 `domains`/`urls`, plain lists)."""
    result.categories.add(category)
    for number, text in content_lines(stream, source, result):
        try:
            entry = parse_entry(text, url_list=url_list)
        except EntryError as error:
            result.reject(source, number, text, str(error))
            continue
        for note in entry.notes:
            result.note(source, number, text, note)
        if entry.path is None:
            result.add_domain(category, entry.host)
        else:
            result.add_url(category, entry.host, entry.path)
