"""`extract_parts`: a request body (POST, PUT) as the pieces of text the DLP detectors read
(G7). Pure: bytes in, values out; never raises on any body."""

from __future__ import annotations

from typing import Final

from webwarden.inspection.bodies.charset import ContentType, decode_text, parse_content_type
from webwarden.inspection.bodies.encodings import decode_content
from webwarden.inspection.bodies.files import file_parts
from webwarden.inspection.bodies.forms import split_multipart
from webwarden.inspection.bodies.parts import MAX_DEPTH, Budget, TextPart, cut_short
from webwarden.inspection.bodies.structured import form_parts, json_parts, xml_parts

_FORM: Final = "application/x-www-form-urlencoded"
_JSON: Final = frozenset({"application/json", "text/json", "application/x-ndjson"})
_XML: Final = frozenset({"application/xml", "text/xml"})


def _multipart_parts(
    data: bytes, content: ContentType, where: str, budget: Budget, depth: int
) -> list[TextPart]:
    if content.boundary is None:
        error = f"{content.media} body without a boundary parameter"
        return [TextPart(where, "", None, content.media, error=error)]
    if depth >= MAX_DEPTH:
        error = f"multipart body nested more than {MAX_DEPTH} deep"
        return [TextPart(where, "", None, content.media, error=error)]
    form, problem = split_multipart(data, content.boundary)
    parts: list[TextPart] = []
    for index, part in enumerate(form, 1):
        field = f"field {part.name!r}" if part.name is not None else f"part {index}"
        if part.filename is not None:
            if not part.filename and not part.data:
                continue  # a file input with no file chosen
            named = f"file {part.filename!r}" if part.filename else f"file in {field}"
            found = file_parts(
                part.data, named, part.filename or None, part.content_type, budget, depth
            )
        elif part.content_type is not None:
            found = body_parts(part.data, part.content_type, field, budget, depth + 1)
        else:
            # Browsers send fields in the page's charset, UTF-8 on any current site.
            found = [TextPart(field, decode_text(part.data))]
        parts.extend(found if part.complete else [cut_short(p) for p in found])
    if problem is not None:
        parts.append(TextPart(where, "", None, content.media, error=problem))
    return parts


def body_parts(
    data: bytes, content_type: str | None, where: str, budget: Budget, depth: int = 0
) -> list[TextPart]:
    """The parts of a decoded body (or of a multipart field) by its Content-Type; bodies
    of other or no types are sniffed like files."""
    content = parse_content_type(content_type)
    media = content.media
    if media.startswith("multipart/"):
        return _multipart_parts(data, content, where, budget, depth)
    if media == _FORM:
        return form_parts(decode_text(data, content.charset), where, content.charset, media)
    if media in _JSON or media.endswith("+json"):
        return json_parts(decode_text(data, content.charset), where, media)
    if media in _XML or (media.endswith("+xml") and media != "image/svg+xml"):
        return xml_parts(data, decode_text(data, content.charset), where, media)
    if media.startswith("text/"):
        return [TextPart(where, decode_text(data, content.charset), media_type=media)]
    return file_parts(data, where, None, content_type, budget, depth)


def extract_parts(
    body: bytes, content_type: str | None, content_encoding: str | None, *, limit: int
) -> tuple[TextPart, ...]:
    """The text of a request body, piece by piece, for the DLP detectors.

    `body` is what the inspection window holds; `content_type` and `content_encoding` are
    the request's headers. The Content-Encoding is undone first (at most `limit` bytes come
    out; a bomb stops there and its last part is `truncated`), then the body is split by its
    type: form fields, multipart fields and files, JSON values, XML or plain text; files are
    read by their magic bytes (Office and OpenDocument files, PDF, text; images kept raw;
    zip archives opened two deep). Whatever cannot be read is a part with `error` set, so
    that the gateway can apply its policy for uninspectable content. Never raises on any
    body; raises ValueError only for a `limit` that is not a positive integer.
    """
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise ValueError(f"extraction limit must be a positive integer, not {limit!r}")
    data = bytes(body)
    cut = len(data) > limit
    data = data[:limit]
    decoded = decode_content(data, content_encoding, limit)
    media = parse_content_type(content_type).media or None
    budget = Budget(limit)
    parts = body_parts(decoded.data, content_type, "body", budget) if decoded.data else []
    if decoded.error is not None:
        parts.append(TextPart("body", "", None, media, error=decoded.error))
    elif not parts:
        parts.append(TextPart("body", "", None, media))
    if cut or decoded.overflowed or decoded.cut:
        parts[-1] = cut_short(parts[-1])
    return tuple(parts)
