"""The text of office documents: Office Open XML (docx, xlsx, pptx), OpenDocument (odt,
ods, odp) and PDF. Each takes the document's bytes, already in memory and bounded."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from types import ModuleType
from typing import TYPE_CHECKING, Final, Protocol

from webwarden.inspection.bodies.archives import Archive
from webwarden.inspection.bodies.parts import EXPANSION_FACTOR, Budget, TextPart
from webwarden.inspection.bodies.xmltext import (
    FlowText,
    SharedStrings,
    SheetText,
    feed_xml,
)

if TYPE_CHECKING:
    import pypdf


def _pdf_reader() -> ModuleType | None:
    """pypdf, imported the first time a PDF is read: at start it would cost every gateway
    worker some 50 ms and several MB. None where it is not installed (PDFs are then
    uninspectable parts)."""
    try:
        import pypdf
    except ImportError:  # pragma: no cover
        return None
    return pypdf

_MAX_PDF_PAGES: Final = 500

# Which XML parts hold text a person wrote. The document properties come along because a
# protective marking is often a custom property or a label written there.
_OOXML_PARTS: Final = re.compile(
    r"(word/(document|header\d*|footer\d*|footnotes|endnotes|comments)\.xml"
    r"|ppt/(slides/slide|notesSlides/notesSlide|comments/comment)\d*\.xml"
    r"|xl/worksheets/sheet\d*\.xml|xl/comments\d*\.xml"
    r"|docProps/(core|app|custom)\.xml)\Z"
)
_OOXML_TYPES: Final = (
    ("word/", "wordprocessingml.document"),
    ("xl/", "spreadsheetml.sheet"),
    ("ppt/", "presentationml.presentation"),
)
# Text runs; deleted text of tracked changes stays in the file, so it is read too.
_OOXML_TEXT: Final = frozenset({"t", "delText"})
_ODF_PARTS: Final = ("content.xml", "styles.xml", "meta.xml")


class _Reader(Protocol):
    def text(self) -> str: ...


def _xml_parts(
    archive: Archive,
    names: list[str],
    where: str,
    media: str,
    reader_for: Callable[[str], _Reader],
) -> list[TextPart]:
    """One part per XML member with text. A member cut by the bound keeps the text read
    before the cut (`truncated`); a malformed one keeps it too, with the fault as error."""
    parts: list[TextPart] = []
    for name in names:
        data = archive.read(name)
        here = f"{where}, {name}"
        if data is None:
            parts.append(TextPart(here, "", archive.filename, media, error=archive.problem(name)))
            continue
        reader = reader_for(name)
        problem = feed_xml(data, reader)
        text, cut = reader.text(), archive.cut(name)
        error = f"bad XML: {problem}" if problem is not None and not cut else None
        if text or error:
            parts.append(TextPart(here, text, archive.filename, media, error=error, truncated=cut))
    return parts


def _shared_strings(archive: Archive) -> list[str]:
    data = archive.read("xl/sharedStrings.xml")
    table = SharedStrings()
    if data is not None:
        feed_xml(data, table)  # a fault keeps the strings read before it
    return table.strings


def _ooxml_type(names: list[str]) -> str:
    for prefix, kind in _OOXML_TYPES:
        if any(n.startswith(prefix) for n in names):
            return f"application/vnd.openxmlformats-officedocument.{kind}"
    return "application/vnd.openxmlformats-officedocument"


def ooxml_parts(archive: Archive, where: str) -> list[TextPart]:
    """The text of a docx, xlsx or pptx, one part per XML part that holds any."""
    names = sorted(n for n in archive.names() if _OOXML_PARTS.match(n))
    shared = _shared_strings(archive) if any(n.startswith("xl/worksheets/") for n in names) else []

    def reader_for(name: str) -> _Reader:
        if name.startswith("xl/worksheets/"):
            return SheetText(shared)
        if name.startswith("docProps/"):
            return FlowText()
        return FlowText(only=_OOXML_TEXT)

    return _xml_parts(archive, names, where, _ooxml_type(names), reader_for)


def odf_parts(archive: Archive, where: str, media: str) -> list[TextPart]:
    """The text of an OpenDocument file: its content, its styles (headers and footers
    live there) and its metadata."""
    names: list[str] = [n for n in _ODF_PARTS if n in archive.names()]
    return _xml_parts(archive, names, where, media, lambda _: FlowText())


class _EncryptedPdfError(Exception):
    """A PDF that opens only with a password."""


def _pdf_pages(pdf: ModuleType, data: bytes, budget: Budget, texts: list[str]) -> bool:
    """Appends the text of each page to `texts`; true when it stopped at a bound."""
    reader: pypdf.PdfReader = pdf.PdfReader(io.BytesIO(data), strict=False)
    if reader.is_encrypted and not reader.decrypt(""):
        raise _EncryptedPdfError
    for number, page in enumerate(reader.pages):
        if number >= _MAX_PDF_PAGES or budget.allowance() <= 0:
            return True
        text = page.extract_text() or ""
        budget.spend(len(text))
        texts.append(text)
    return False


def pdf_parts(data: bytes, where: str, filename: str | None, budget: Budget) -> list[TextPart]:
    """The text of a PDF, page by page up to a bound; one that cannot be parsed, or is
    encrypted with a password, is one part with its error."""
    media = "application/pdf"
    pdf = _pdf_reader()
    if pdf is None:
        return [TextPart(where, "", filename, media, error="no PDF reader is installed")]
    texts: list[str] = []
    bound = budget.limit * EXPANSION_FACTOR
    try:
        # pypdf's own bounds (75 MB a stream) lowered to ours for this call only (they are a
        # context variable), and never the external JBIG2 decoder, which would run a process.
        with pdf.apply_configuration(
            zlib_maximum_output_length=bound,
            lzw_maximum_output_length=bound,
            run_length_maximum_output_length=bound,
            brotli_maximum_output_length=bound,
            array_based_stream_maximum_output_length=bound,
            maximum_declared_stream_length=bound,
            stream_decoding_work_maximum_length=2 * bound,
            image_maximum_buffer_size=bound,
            jbig2_maximum_output_length=bound,
            jbig2dec_binary=None,
        ):
            truncated = _pdf_pages(pdf, data, budget, texts)
    except _EncryptedPdfError:
        return [TextPart(where, "", filename, media, error="encrypted PDF (password needed)")]
    # pypdf raises many kinds of error (and RecursionError) on hostile files: every one of
    # them means the same here, an uninspectable part.
    except Exception as problem:
        error = f"PDF could not be read: {type(problem).__name__}: {problem}"
        return [TextPart(where, "\n".join(texts), filename, media, error=error)]
    return [TextPart(where, "\n".join(texts), filename, media, truncated=truncated)]
