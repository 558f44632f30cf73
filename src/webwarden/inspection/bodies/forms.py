"""multipart/form-data split into its fields and files, with python-multipart's parser
(a well-kept streaming parser that works on a bytes buffer and keeps nothing on disk when
driven through its callbacks, as here)."""

from __future__ import annotations

import email.message
import email.utils
from dataclasses import dataclass, field

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, MultipartState


@dataclass(frozen=True, slots=True)
class FormPart:
    """One part of a multipart body: its field name, its file name when it is a file
    (`filename*` preferred to `filename`), its Content-Type, its bytes, and `complete`
    false when the body stopped inside it."""

    name: str | None
    filename: str | None
    content_type: str | None
    data: bytes
    complete: bool = True


@dataclass
class _Collector:
    parts: list[FormPart] = field(default_factory=list)
    headers: list[tuple[str, str]] = field(default_factory=list)
    header_field: bytearray = field(default_factory=bytearray)
    header_value: bytearray = field(default_factory=bytearray)
    data: list[bytes] = field(default_factory=list)
    open: bool = False

    def begin(self) -> None:
        self.headers, self.data, self.open = [], [], True

    def field_bytes(self, data: bytes, start: int, end: int) -> None:
        self.header_field += data[start:end]

    def value_bytes(self, data: bytes, start: int, end: int) -> None:
        self.header_value += data[start:end]

    def header_end(self) -> None:
        # Browsers send file names as raw UTF-8 in the header (WHATWG HTML form encoding).
        name = self.header_field.decode("utf-8", "replace").strip().lower()
        self.headers.append((name, self.header_value.decode("utf-8", "replace").strip()))
        self.header_field, self.header_value = bytearray(), bytearray()

    def part_data(self, data: bytes, start: int, end: int) -> None:
        self.data.append(data[start:end])

    def end(self, complete: bool = True) -> None:
        headers = dict(self.headers)
        name, filename = _disposition(headers.get("content-disposition"))
        body = b"".join(self.data)
        self.parts.append(FormPart(name, filename, headers.get("content-type"), body, complete))
        self.open = False


def _disposition(value: str | None) -> tuple[str | None, str | None]:
    """The name and file name of a Content-Disposition; the email package reads the
    RFC 2231 form `filename*=UTF-8''...` that some clients send."""
    if value is None:
        return None, None
    message = email.message.Message()
    message["content-disposition"] = value
    found: dict[str, str] = {}
    for key, raw in message.get_params([], header="content-disposition")[1:]:
        decoded = email.utils.collapse_rfc2231_value(raw)
        # The RFC 2231 form (decoded to a tuple by the email package) wins over the plain one.
        if key in ("name", "filename") and (key not in found or isinstance(raw, tuple)):
            found[key] = decoded
    return found.get("name"), found.get("filename")


def split_multipart(body: bytes, boundary: str) -> tuple[list[FormPart], str | None]:
    """The parts of a multipart body and, when it is malformed or cut short, what is
    wrong with it (the parts read before the problem are still returned)."""
    collector = _Collector()
    try:
        parser = MultipartParser(
            boundary.encode("latin-1", "replace"),
            {
                "on_part_begin": collector.begin,
                "on_header_field": collector.field_bytes,
                "on_header_value": collector.value_bytes,
                "on_header_end": collector.header_end,
                "on_part_data": collector.part_data,
                "on_part_end": collector.end,
            },
        )
        parser.write(body)
        parser.finalize()
    except FormParserError as problem:
        if collector.open:
            collector.end(complete=False)
        return collector.parts, f"malformed multipart body: {problem}"
    if parser.state != MultipartState.END:
        if collector.open:
            collector.end(complete=False)
        if not collector.parts:
            return [], f"multipart body without a part for boundary {boundary!r}"
    # A body cut by the window ends inside its last part, which is marked incomplete.
    return collector.parts, None
