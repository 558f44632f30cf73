"""Request bodies as text for the detectors: real forms, real documents, real compression,
and hostile bodies of every kind (G7)."""

from __future__ import annotations

import gzip
import io
import json
import random
import struct
import zipfile
import zlib

import brotli  # type: ignore[import-untyped]
import pytest
import zstandard

from webwarden.inspection.bodies import TextPart, extract_parts

LIMIT = 1 << 20
MARKING = "OFFICIAL-SENSITIVE"
SECRET = "Operation Kestrel: surveillance of 14 Acacia Avenue, Leeds LS6 2QB"


def texts(parts: tuple[TextPart, ...]) -> dict[str, str]:
    return {p.where: p.text for p in parts}


def errors(parts: tuple[TextPart, ...]) -> dict[str, str]:
    return {p.where: p.error for p in parts if p.error is not None}


# --- real documents, built the way Word, Excel, PowerPoint and LibreOffice lay them out -----

W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
A = 'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main"'
P = 'xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main"'
S = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="xml" ContentType="application/xml"/></Types>'
)


def office(parts: dict[str, str | bytes], *, method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=method) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        for name, xml in parts.items():
            archive.writestr(name, xml)
    return buffer.getvalue()


def docx() -> bytes:
    def paragraph(text: str) -> str:
        return f'<w:p><w:r><w:t xml:space="preserve">{text}</w:t></w:r></w:p>'

    body = (
        paragraph("Briefing note")
        + '<w:p><w:r><w:t>Subject:</w:t></w:r><w:r><w:tab/><w:t xml:space="preserve">'
        + SECRET
        + "</w:t></w:r></w:p>"
        + "<w:tbl><w:tr><w:tc>"
        + paragraph("Collar")
        + "</w:tc><w:tc>"
        + paragraph("4521")
        + "</w:tc></w:tr></w:tbl>"
        + "<w:p><w:del><w:r><w:delText>deleted but still there</w:delText></w:r></w:del></w:p>"
    )
    return office(
        {
            "word/document.xml": f"<w:document {W}><w:body>{body}</w:body></w:document>",
            "word/header1.xml": f"<w:hdr {W}>{paragraph(MARKING)}</w:hdr>",
            "docProps/core.xml": (
                '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/'
                'metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/">'
                "<dc:title>Kestrel briefing</dc:title><dc:creator>DS Patel</dc:creator>"
                "</cp:coreProperties>"
            ),
        }
    )


def xlsx() -> bytes:
    shared = f'<sst {S} count="2"><si><t>Name</t></si><si><t>{MARKING}</t></si></sst>'
    sheet = (
        f"<worksheet {S}><sheetData>"
        '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c></row>'
        '<row r="2"><c r="A2" t="inlineStr"><is><t>PC Jones</t></is></c>'
        '<c r="B2"><v>4929123456781234</v></c><c r="C2" t="s"><v>99</v></c></row>'
        "</sheetData></worksheet>"
    )
    return office(
        {
            "xl/workbook.xml": f"<workbook {S}/>",
            "xl/sharedStrings.xml": shared,
            "xl/worksheets/sheet1.xml": sheet,
        }
    )


def pptx() -> bytes:
    slide = (
        f"<p:sld {P} {A}><p:cSld><p:spTree><p:sp><p:txBody>"
        "<a:p><a:r><a:t>Gold command</a:t></a:r></a:p>"
        f"<a:p><a:r><a:t>{SECRET}</a:t></a:r></a:p>"
        "</p:txBody></p:sp></p:spTree></p:cSld></p:sld>"
    )
    return office(
        {"ppt/presentation.xml": f"<p:presentation {P}/>", "ppt/slides/slide1.xml": slide}
    )


ODF_NS = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"'
)


def odf(kind: str, body: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        # OpenDocument requires "mimetype" first and stored, so that it sits at offset 38.
        archive.writestr("mimetype", kind, compress_type=zipfile.ZIP_STORED)
        archive.writestr(
            "content.xml",
            f"<office:document-content {ODF_NS}><office:body>{body}</office:body>"
            "</office:document-content>",
        )
        archive.writestr("META-INF/manifest.xml", "<manifest/>")
    return buffer.getvalue()


def odt() -> bytes:
    return odf(
        "application/vnd.oasis.opendocument.text",
        f"<office:text><text:h>{MARKING}</text:h><text:p>Two<text:s/>spaces and "
        f"<text:span>{SECRET}</text:span></text:p></office:text>",
    )


def ods() -> bytes:
    return odf(
        "application/vnd.oasis.opendocument.spreadsheet",
        "<office:spreadsheet><table:table><table:table-row>"
        "<table:table-cell><text:p>Collar</text:p></table:table-cell>"
        "<table:table-cell><text:p>4521</text:p></table:table-cell>"
        "</table:table-row></table:table></office:spreadsheet>",
    )


def odp() -> bytes:
    return odf(
        "application/vnd.oasis.opendocument.presentation",
        '<office:presentation><draw:page xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:'
        'drawing:1.0"><draw:frame><draw:text-box>'
        f"<text:p>{MARKING}</text:p><text:p>Gold command</text:p>"
        "</draw:text-box></draw:frame></draw:page></office:presentation>",
    )


def pdf(lines: list[str], *, padding: int = 0) -> bytes:
    """A small valid PDF with one page of Helvetica text, the xref table computed; its
    content stream is deflated, after `padding` spaces (a bomb when that is large)."""
    text = "BT /F1 12 Tf 72 720 Td 14 TL " + " ".join(f"({t}) '" for t in lines) + " ET"
    compressor = zlib.compressobj(9)
    stream = b"".join(compressor.compress(b" " * (1 << 20)) for _ in range(padding >> 20))
    stream += compressor.compress(b" " * (padding % (1 << 20)) + text.encode())
    stream += compressor.flush()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
        b"/Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n%s\nendstream" % (len(stream), stream),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    )
    return bytes(out)


def png() -> bytes:
    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + b"IHDR" + ihdr + b"\x00" * 40


IMAGES = {
    "crest.png": (png(), "image/png"),
    "photo.jpg": (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01" + b"\x00" * 64, "image/jpeg"),
    "anim.gif": (b"GIF89a\x01\x00\x01\x00\x80\x00\x00" + b"\x00" * 32, "image/gif"),
    "pic.webp": (b"RIFF\x24\x00\x00\x00WEBPVP8 \x18\x00\x00\x00" + b"\x00" * 24, "image/webp"),
}


def pe_exe() -> bytes:
    head = bytearray(512)
    head[0:4] = b"MZ\x90\x00"
    struct.pack_into("<I", head, 0x3C, 0x80)
    head[0x80:0x84] = b"PE\x00\x00"
    return bytes(head)


# --- multipart as browsers send it ---------------------------------------------------------

BOUNDARY = "----WebKitFormBoundary7MA4YWxkTrZu0gW"


def multipart(*parts: tuple[str, bytes]) -> bytes:
    """Parts as (headers, body), joined with CRLF as Chrome and Firefox send them."""
    out = b"".join(
        f"--{BOUNDARY}\r\n{headers}\r\n\r\n".encode() + body + b"\r\n" for headers, body in parts
    )
    return out + f"--{BOUNDARY}--\r\n".encode()


def field(name: str, value: str) -> tuple[str, bytes]:
    return f'Content-Disposition: form-data; name="{name}"', value.encode()


def upload(name: str, data: bytes, media: str = "application/octet-stream") -> tuple[str, bytes]:
    return (
        f'Content-Disposition: form-data; name="file"; filename="{name}"\r\nContent-Type: {media}',
        data,
    )


RFC_2231 = "filename*=UTF-8''r%C3%A9sum%C3%A9.txt"  # as curl and some libraries send it
FORM_TYPE = f'multipart/form-data; boundary="{BOUNDARY}"'


def test_a_browser_form_with_fields_and_files() -> None:
    body = multipart(
        field("subject", "Re: Kestrel"),
        field("message", f"{MARKING}\r\n{SECRET}"),
        upload("report.docx", docx()),
        upload("notes.txt", b"plain notes", "text/plain"),
        upload("crest.png", png(), "image/png"),
        ('Content-Disposition: form-data; name="empty"; filename=""', b""),  # no file chosen
    )
    parts = extract_parts(body, FORM_TYPE, None, limit=LIMIT)
    found = texts(parts)
    assert found["field 'subject'"] == "Re: Kestrel"
    assert found["field 'message'"] == f"{MARKING}\r\n{SECRET}"
    assert SECRET in found["file 'report.docx', word/document.xml"]
    assert found["file 'notes.txt'"] == "plain notes"
    image = next(p for p in parts if p.where == "file 'crest.png'")
    assert image.raw == png() and image.text == "" and image.media_type == "image/png"
    assert not errors(parts)
    assert all(p.raw is None for p in parts if p is not image)
    assert not any("empty" in p.where for p in parts)


@pytest.mark.parametrize(
    ("disposition", "filename"),
    [
        ('form-data; name="file"; filename="r\u00e9sum\u00e9.txt"', "r\u00e9sum\u00e9.txt"),
        (f'form-data; name="file"; {RFC_2231}', "r\u00e9sum\u00e9.txt"),
        (f'form-data; name="file"; filename="resume.txt"; {RFC_2231}', "r\u00e9sum\u00e9.txt"),
        (f'form-data; name="file"; {RFC_2231}; filename="resume.txt"', "r\u00e9sum\u00e9.txt"),
        ('form-data; name="file"; filename="C:\\\\Users\\\\pc\\\\a.txt"', "C:\\Users\\pc\\a.txt"),
    ],
)
def test_file_names_raw_utf8_and_rfc_2231(disposition: str, filename: str) -> None:
    body = multipart((f"Content-Disposition: {disposition}", b"text"))
    (part,) = extract_parts(body, FORM_TYPE, None, limit=LIMIT)
    assert part.filename == filename and part.where == f"file {filename!r}" and part.text == "text"


@pytest.mark.parametrize(
    "content_type",
    [
        f'multipart/form-data; boundary="{BOUNDARY}"',
        f"multipart/form-data; boundary={BOUNDARY}",
        f"Multipart/Form-Data;boundary={BOUNDARY}; charset=UTF-8",
    ],
)
def test_the_boundary_quoted_or_not(content_type: str) -> None:
    parts = extract_parts(multipart(field("q", "x")), content_type, None, limit=LIMIT)
    assert texts(parts) == {"field 'q'": "x"}


def test_a_field_with_its_own_content_type_is_read_by_it() -> None:
    meta = ('Content-Disposition: form-data; name="meta"\r\nContent-Type: application/json',
            json.dumps({"title": SECRET}).encode())  # fmt: skip
    parts = extract_parts(multipart(meta), FORM_TYPE, None, limit=LIMIT)
    assert texts(parts) == {"field 'meta' JSON $.title": SECRET}


@pytest.mark.parametrize(
    ("body", "content_type", "error"),
    [
        (multipart(field("q", "x")), "multipart/form-data", "without a boundary parameter"),
        (b"no parts at all", FORM_TYPE, "multipart body"),
        (b"--" + BOUNDARY.encode() + b"\r\nbroken header line\r\n\r\nx", FORM_TYPE, "malformed"),
    ],
)
def test_malformed_multipart_bodies_are_uninspectable(
    body: bytes, content_type: str, error: str
) -> None:
    parts = extract_parts(body, content_type, None, limit=LIMIT)
    assert any(error in (p.error or "") for p in parts)


def test_a_multipart_body_cut_by_the_window_marks_its_last_part() -> None:
    body = multipart(field("a", "first"), field("b", SECRET * 10))
    cut = body[: body.index(SECRET.encode()) + 20]
    parts = extract_parts(cut, FORM_TYPE, None, limit=LIMIT)
    assert [(p.where, p.truncated) for p in parts] == [("field 'a'", False), ("field 'b'", True)]
    assert parts[-1].text == SECRET[:20]


# --- forms, JSON, XML, text and charsets ------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "content_type", "expected"),
    [
        (
            b"name=PC+Smith&note=OFFICIAL%2DSENSITIVE%3A+brief&empty=",
            "application/x-www-form-urlencoded",
            {
                "field 'name'": "PC Smith",
                "field 'note'": "OFFICIAL-SENSITIVE: brief",
                "field 'empty'": "",
            },
        ),
        (
            b"town=Br%E6dstrup",
            "application/x-www-form-urlencoded; charset=windows-1252",
            {"field 'town'": "Br\u00e6dstrup"},
        ),
        (
            b"town=Br%C3%A6dstrup",
            "application/x-www-form-urlencoded",
            {"field 'town'": "Br\u00e6dstrup"},
        ),
        (
            json.dumps(
                {"status": MARKING, "case": {"ref": "CR/0451/26", "n": [12, 3.5, True, None]}}
            ).encode(),
            "application/json",
            {
                "JSON $.status": MARKING,
                "JSON $.case.ref": "CR/0451/26",
                "JSON $.case.n[0]": "12",
                "JSON $.case.n[1]": "3.5",
            },
        ),
        (
            json.dumps({"odd key": "v"}).encode(),
            "application/vnd.api+json",
            {'JSON $["odd key"]': "v"},
        ),
        (
            b'{"status": "OFFICIAL", broken',
            "application/json",
            {"body": '{"status": "OFFICIAL", broken'},
        ),
        (
            b"<case ref='CR/1'><officer>PC Jones</officer></case>",
            "application/xml",
            {"body": "PC Jones\nCR/1"},
        ),
        (b"<soap:Envelope", "text/xml", {"body": "<soap:Envelope"}),  # unparsable: raw text
        (b"plain text body", "text/plain", {"body": "plain text body"}),
        (b"a,b\r\n1,2\r\n", "text/csv", {"body": "a,b\r\n1,2\r\n"}),
        (b"caf\xe9 \x80", "text/plain; charset=iso-8859-1", {"body": "caf\u00e9 \u20ac"}),
        (b"caf\xe9", "text/plain; charset=windows-1252", {"body": "caf\u00e9"}),
        (b"\xef\xbb\xbfbom utf-8", "text/plain", {"body": "bom utf-8"}),
        (
            "utf-16 with BOM".encode("utf-16"),
            "text/plain; charset=utf-16",
            {"body": "utf-16 with BOM"},
        ),
        ("big-endian".encode("utf-16-be"), "text/plain; charset=UTF-16BE", {"body": "big-endian"}),
        (b"bad \xff\xfe utf-8", "text/plain; charset=utf-8", {"body": "bad \ufffd\ufffd utf-8"}),
        (b"unknown charset", "text/plain; charset=x-klingon", {"body": "unknown charset"}),
        (b"untyped text", None, {"body": "untyped text"}),
        (b"text as octets", "application/octet-stream", {"body": "text as octets"}),
    ],
)
def test_bodies_by_content_type(
    body: bytes, content_type: str | None, expected: dict[str, str]
) -> None:
    parts = extract_parts(body, content_type, None, limit=LIMIT)
    assert texts(parts) == expected
    assert not errors(parts)


def test_many_json_values_are_capped_into_one_last_part() -> None:
    values = [f"v{i}" for i in range(5000)]
    parts = extract_parts(json.dumps(values).encode(), "application/json", None, limit=LIMIT)
    assert len(parts) == 2000
    assert parts[-1].where == "JSON (values after the first 1999)"
    assert parts[-1].text.split("\n") == values[1999:]


def test_a_json_nesting_bomb_is_read_as_text() -> None:
    body = b"[" * 100_000 + b'"deep"' + b"]" * 100_000
    (part,) = extract_parts(body, "application/json", None, limit=LIMIT)
    assert part.where == "body" and "deep" in part.text


@pytest.mark.parametrize(
    "xml",
    [
        # billion laughs
        b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "ha"><!ENTITY b "&a;&a;&a;&a;&a;">]>'
        b"<l>&b;&b;</l>",
        # an external entity, which would read a file beside the parser
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "secret.txt">]><x>&e;</x>',
    ],
)
def test_xml_entities_are_never_expanded(xml: bytes) -> None:
    (part,) = extract_parts(xml, "application/xml", None, limit=LIMIT)
    assert part.text == xml.decode()  # the raw text, for the detectors to read as it is
    assert "hahaha" not in part.text


# --- documents being uploaded ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "data", "expected"),
    [
        (
            "report.docx",
            docx(),
            {
                "word/document.xml": f"Briefing note\nSubject:\t{SECRET}\nCollar\t4521\n"
                "deleted but still there",
                "word/header1.xml": MARKING,
                "docProps/core.xml": "Kestrel briefingDS Patel",
            },
        ),
        (
            "roster.xlsx",
            xlsx(),
            {"xl/worksheets/sheet1.xml": f"Name\t{MARKING}\nPC Jones\t4929123456781234\t"},
        ),
        ("brief.pptx", pptx(), {"ppt/slides/slide1.xml": f"Gold command\n{SECRET}"}),
        ("brief.odt", odt(), {"content.xml": f"{MARKING}\nTwo spaces and {SECRET}"}),
        ("sheet.ods", ods(), {"content.xml": "Collar\t4521"}),
        ("slides.odp", odp(), {"content.xml": f"{MARKING}\nGold command"}),
    ],
)
def test_office_documents_give_their_text(name: str, data: bytes, expected: dict[str, str]) -> None:
    parts = extract_parts(multipart(upload(name, data)), FORM_TYPE, None, limit=LIMIT)
    prefix = f"file {name!r}, "
    assert {p.where.removeprefix(prefix): p.text for p in parts} == expected
    assert all(p.filename == name for p in parts) and not errors(parts)


def test_a_pdf_gives_its_text() -> None:
    (part,) = extract_parts(pdf([MARKING, SECRET]), "application/pdf", None, limit=LIMIT)
    assert MARKING in part.text and SECRET in part.text
    assert part.error is None and part.media_type == "application/pdf"


def test_an_encrypted_pdf_is_uninspectable() -> None:
    pypdf = pytest.importorskip("pypdf")
    writer = pypdf.PdfWriter(clone_from=io.BytesIO(pdf([SECRET])))
    writer.encrypt(user_password="kestrel", owner_password="kestrel", algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    (part,) = extract_parts(out.getvalue(), "application/pdf", None, limit=LIMIT)
    assert part.error == "encrypted PDF (password needed)" and SECRET not in part.text


def test_a_pdf_whose_content_inflates_past_the_bound_is_uninspectable() -> None:
    bomb = pdf([SECRET], padding=8 << 20)
    (part,) = extract_parts(bomb, "application/pdf", None, limit=1 << 20)
    assert part.error is not None and part.error.startswith("PDF could not be read")
    assert SECRET not in part.text


def test_a_pdf_just_under_the_bound_is_read() -> None:
    (part,) = extract_parts(pdf([SECRET], padding=1 << 20), "application/pdf", None, limit=1 << 20)
    assert SECRET in part.text and part.error is None


@pytest.mark.parametrize(
    "data",
    [
        pdf([SECRET])[:200],  # cut short
        b"%PDF-1.7\n" + bytes(range(256)) * 4,  # a signature and nothing else
    ],
)
def test_a_pdf_that_does_not_parse_is_a_part_with_an_error(data: bytes) -> None:
    parts = extract_parts(data, "application/pdf", None, limit=LIMIT)
    assert parts[-1].error is not None and parts[-1].error.startswith("PDF could not be read")


@pytest.mark.parametrize(("name", "image"), list(IMAGES.items()))
def test_images_are_kept_raw_for_the_logo_matcher(name: str, image: tuple[bytes, str]) -> None:
    data, media = image
    (part,) = extract_parts(multipart(upload(name, data)), FORM_TYPE, None, limit=LIMIT)
    assert (part.raw, part.text, part.media_type, part.error) == (data, "", media, None)


@pytest.mark.parametrize(
    ("name", "data", "error"),
    [
        ("setup.exe", pe_exe(), "no text can be read from PE executable"),
        ("data.bin", bytes(range(256)), "no text can be read from binary data"),
        (
            "locked.docx",
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
            + b"\x00" * 512
            + "EncryptedPackage".encode("utf-16-le"),
            "encrypted Office document (password protected)",
        ),
        ("cut.docx", docx()[:300], "cannot open zip archive"),
    ],
)
def test_files_without_readable_text_are_uninspectable(name: str, data: bytes, error: str) -> None:
    parts = extract_parts(multipart(upload(name, data)), FORM_TYPE, None, limit=LIMIT)
    assert parts[-1].error is not None and parts[-1].error.startswith(error)


@pytest.mark.parametrize(
    ("data", "media"),
    [
        (docx(), "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        (xlsx(), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        (pptx(), "application/vnd.openxmlformats-officedocument.presentationml.presentation"),
        (odt(), "application/vnd.oasis.opendocument.text"),
        (ods(), "application/vnd.oasis.opendocument.spreadsheet"),
    ],
)
def test_document_parts_carry_the_document_type(data: bytes, media: str) -> None:
    parts = extract_parts(data, "application/octet-stream", None, limit=LIMIT)
    assert {p.media_type for p in parts} == {media}


def test_files_embedded_in_a_document_are_read_too() -> None:
    data = office(
        {
            "word/document.xml": f"<w:document {W}><w:body><w:p><w:r><w:t>See the attached"
            "</w:t></w:r></w:p></w:body></w:document>",
            "word/embeddings/Microsoft_Excel_Worksheet.xlsx": xlsx(),
            "word/media/image1.png": png(),
        }
    )
    parts = extract_parts(data, None, None, limit=LIMIT)
    found = texts(parts)
    sheet = (
        "body, member 'word/embeddings/Microsoft_Excel_Worksheet.xlsx', xl/worksheets/sheet1.xml"
    )
    assert MARKING in found[sheet]
    assert next(p for p in parts if p.filename == "word/media/image1.png").raw == png()


def test_a_package_that_is_not_a_known_document_is_read_as_an_archive() -> None:
    # An XPS document: an Open Packaging package without Word, Excel or PowerPoint parts.
    data = office({"Documents/1/Pages/1.fpage": f'<FixedPage><Glyphs UnicodeString="{SECRET}"/>'
                   "</FixedPage>"})  # fmt: skip
    parts = extract_parts(data, None, None, limit=LIMIT)
    assert SECRET in texts(parts)["body, member 'Documents/1/Pages/1.fpage'"]


def test_a_document_part_past_the_bound_keeps_the_text_before_the_cut() -> None:
    paragraph = f"<w:p><w:r><w:t>{SECRET}</w:t></w:r></w:p>"
    data = office({"word/document.xml": f"<w:document {W}><w:body>{paragraph * 2000}"})
    assert len(data) < 8192
    (part,) = extract_parts(data, None, None, limit=8192)
    assert part.truncated and part.error is None
    assert part.text.startswith(f"{SECRET}\n{SECRET}\n") and len(part.text) < 8192


def test_bad_xml_inside_a_docx_is_an_error_of_that_part() -> None:
    data = office({"word/document.xml": "<w:document><unclosed>"})
    (part,) = extract_parts(data, None, None, limit=LIMIT)
    assert part.where == "body, word/document.xml" and (part.error or "").startswith("bad XML")


# --- archives ---------------------------------------------------------------------------------


def zipped(members: dict[str, bytes], *, method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=method, compresslevel=1) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_an_uploaded_zip_is_read_member_by_member() -> None:
    data = zipped({"notes.txt": SECRET.encode(), "report.docx": docx(), "crest.png": png()})
    parts = extract_parts(multipart(upload("bundle.zip", data)), FORM_TYPE, None, limit=LIMIT)
    found = texts(parts)
    assert found["file 'bundle.zip', member 'notes.txt'"] == SECRET
    assert found["file 'bundle.zip', member 'report.docx', word/header1.xml"] == MARKING
    assert next(p for p in parts if p.filename == "crest.png").raw == png()


def test_archives_are_opened_two_deep_and_no_deeper() -> None:
    level2 = zipped({"deep.txt": SECRET.encode()})
    level1 = zipped({"inner.zip": level2, "top.txt": b"top"})
    parts = extract_parts(zipped({"outer.zip": level1}), "application/zip", None, limit=LIMIT)
    assert texts(parts)["body, member 'outer.zip', member 'top.txt'"] == "top"
    deep = next(p for p in parts if p.where.endswith("member 'inner.zip'"))
    assert deep.error == "archive nested more than 2 deep: its members are not read"
    assert SECRET not in "".join(p.text for p in parts)


def test_an_encrypted_zip_member_is_uninspectable() -> None:
    data = bytearray(zipped({"secret.txt": SECRET.encode()}, method=zipfile.ZIP_STORED))
    struct.pack_into("<H", data, 6, 0x1)  # local header: encrypted
    central = data.index(b"PK\x01\x02")
    struct.pack_into("<H", data, central + 8, 0x1)  # central directory: encrypted
    (part,) = extract_parts(bytes(data), "application/zip", None, limit=LIMIT)
    assert part.error == "encrypted member (password protected)"


def test_a_zip_bomb_upload_stops_at_the_limit() -> None:
    bomb = zipped({"zeros.txt": b"0" * (20 << 20)})
    assert len(bomb) < LIMIT // 4  # twenty megabytes in a few hundred kilobytes
    parts = extract_parts(bomb, "application/zip", None, limit=LIMIT)
    assert len(parts[0].text) == LIMIT and parts[0].truncated


def test_a_gzip_file_upload_is_opened() -> None:
    data = gzip.compress(SECRET.encode())
    parts = extract_parts(multipart(upload("notes.txt.gz", data)), FORM_TYPE, None, limit=LIMIT)
    assert texts(parts) == {"file 'notes.txt.gz'": SECRET}


# --- content encodings and bombs --------------------------------------------------------------

PLAIN = f"message={MARKING}+{SECRET}".encode()


@pytest.mark.parametrize(
    ("encoding", "encoded"),
    [
        ("gzip", gzip.compress(PLAIN)),
        ("x-gzip", gzip.compress(PLAIN)),
        ("deflate", zlib.compress(PLAIN)),
        ("deflate", zlib.compress(PLAIN)[2:-4]),  # raw deflate, as some clients send
        ("br", brotli.compress(PLAIN)),
        ("zstd", zstandard.ZstdCompressor().compress(PLAIN)),
        ("gzip, br", brotli.compress(gzip.compress(PLAIN))),
        ("identity", PLAIN),
        (None, PLAIN),
        ("gzip", gzip.compress(PLAIN[:20]) + gzip.compress(PLAIN[20:])),  # two gzip members
    ],
)
def test_content_encodings_are_undone(encoding: str | None, encoded: bytes) -> None:
    parts = extract_parts(encoded, "application/x-www-form-urlencoded", encoding, limit=LIMIT)
    assert texts(parts) == {"field 'message'": f"{MARKING} {SECRET}"}
    assert not any(p.truncated for p in parts)


@pytest.mark.parametrize(
    ("encoding", "encoded", "error"),
    [
        ("compress", PLAIN, "unsupported content encoding 'compress'"),
        ("gzip", PLAIN, "gzip data is corrupt"),
        ("br", PLAIN, "br data is corrupt"),
        ("zstd", PLAIN, "zstd data is corrupt"),
        ("gzip, gzip, gzip, gzip, gzip", PLAIN, "too many content encodings (5)"),
    ],
)
def test_bad_encodings_are_uninspectable(encoding: str, encoded: bytes, error: str) -> None:
    parts = extract_parts(encoded, "text/plain", encoding, limit=LIMIT)
    assert parts[-1].error is not None and parts[-1].error.startswith(error)


def test_a_cut_gzip_body_gives_what_it_has_and_says_truncated() -> None:
    encoded = gzip.compress(SECRET.encode() * 100)
    parts = extract_parts(encoded[: len(encoded) // 2], "text/plain", "gzip", limit=LIMIT)
    assert parts[-1].truncated and parts[-1].text
    assert (SECRET * 100).startswith(parts[-1].text)


def gzip_of_zeros(megabytes: int) -> bytes:
    """A gzip of `megabytes` MiB of zeros, built in milliseconds: after a full flush deflate
    forgets its history, so every MiB compresses to the same bytes, repeated."""
    block = b"\x00" * (1 << 20)
    compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    first = compressor.compress(block) + compressor.flush(zlib.Z_FULL_FLUSH)
    again = compressor.compress(block) + compressor.flush(zlib.Z_FULL_FLUSH)
    assert first == again
    deflated = first * megabytes + compressor.flush()
    crc = 0
    for _ in range(megabytes):
        crc = zlib.crc32(block, crc)
    trailer = struct.pack("<II", crc, (megabytes << 20) & 0xFFFFFFFF)
    return b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\x03" + deflated + trailer


def test_the_gzip_of_zeros_is_a_real_gzip() -> None:
    assert gzip.decompress(gzip_of_zeros(3)) == b"\x00" * (3 << 20)


@pytest.mark.parametrize(
    ("encoding", "make"),
    [
        ("gzip", lambda: gzip_of_zeros(100)),
        ("br", lambda: brotli.compress(b"\x00" * (20 << 20), quality=0)),
        ("zstd", lambda: zstandard.ZstdCompressor(level=1).compress(b"\x00" * (20 << 20))),
    ],
)
def test_a_bomb_of_zeros_stops_at_the_limit(encoding: str, make: object) -> None:
    encoded = make()  # type: ignore[operator]
    assert len(encoded) < 1 << 20
    parts = extract_parts(encoded, "application/octet-stream", encoding, limit=LIMIT)
    assert parts[-1].truncated
    assert parts[-1].error == "no text can be read from binary data"


def test_a_body_larger_than_the_limit_is_cut_there() -> None:
    parts = extract_parts(b"a" * 100, "text/plain", None, limit=10)
    assert texts(parts) == {"body": "a" * 10} and parts[-1].truncated


def test_an_empty_body_is_one_empty_part() -> None:
    assert extract_parts(b"", "text/plain", None, limit=LIMIT) == (
        TextPart("body", "", None, "text/plain"),
    )


@pytest.mark.parametrize("limit", [0, -1, True, 2.5, "1"])
def test_the_limit_must_be_a_positive_integer(limit: object) -> None:
    with pytest.raises(ValueError, match="extraction limit must be a positive integer"):
        extract_parts(b"x", None, None, limit=limit)  # type: ignore[arg-type]


# --- hostile bodies never raise -----------------------------------------------------------------

SAMPLES = [
    (docx(), None),
    (xlsx(), None),
    (odt(), None),
    (pdf([SECRET]), "application/pdf"),
    (multipart(field("a", "b"), upload("r.docx", docx())), FORM_TYPE),
    (json.dumps({"a": [1, {"b": "c"}]}).encode(), "application/json"),
    (gzip.compress(b"<a><b>x</b></a>"), "application/xml"),
]


@pytest.mark.parametrize(("sample", "content_type"), SAMPLES)
def test_mutated_bodies_never_raise(sample: bytes, content_type: str | None) -> None:
    rng = random.Random(len(sample))
    for _ in range(40):
        spoiled = bytearray(sample)
        for _ in range(rng.randint(1, 12)):
            spoiled[rng.randrange(len(spoiled))] = rng.randrange(256)
        cut = rng.choice([len(spoiled), rng.randrange(1, len(spoiled) + 1)])
        for part in extract_parts(bytes(spoiled[:cut]), content_type, None, limit=LIMIT):
            assert isinstance(part.text, str)
