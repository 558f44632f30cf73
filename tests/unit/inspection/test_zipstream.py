"""Zip members typed from their local headers as the bytes stream by, from real zips."""

from __future__ import annotations

import io
import random
import struct
import zipfile
import zlib

import pytest

from webwarden.inspection import (
    ARCHIVE,
    DOCUMENT,
    EXECUTABLE,
    IMAGE,
    SNIFF_BYTES,
    TEXT,
    UNKNOWN,
)
from webwarden.inspection.zipstream import ZipMember, ZipStreamTyper, type_member

# --- real member contents ------------------------------------------------------------------


def pe_exe() -> bytes:
    """A Windows PE header: DOS stub pointing at "PE\\0\\0" and an i386 COFF header."""
    head = bytearray(1024)
    head[0:4] = b"MZ\x90\x00"
    struct.pack_into("<I", head, 0x3C, 0x80)
    head[0x80:0x84] = b"PE\x00\x00"
    struct.pack_into("<HH", head, 0x84, 0x014C, 3)
    return bytes(head) + b"This program cannot be run in DOS mode." * 50


def png() -> bytes:
    ihdr = struct.pack(">IIBBBBB", 16, 16, 8, 2, 0, 0, 0)
    chunk = struct.pack(">I", len(ihdr)) + b"IHDR" + ihdr
    return b"\x89PNG\r\n\x1a\n" + chunk + struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))


README = b"Monthly rota for the North Division front counter.\r\nShifts: 07:00-15:00.\r\n" * 60
NOISE = random.Random(7).randbytes(300_000)  # incompressible, so deflate keeps it large

MEMBERS = (
    ("readme.txt", README),
    ("tools/setup.exe", pe_exe()),
    ("logo.png", png()),
    ("data/noise.bin", NOISE),
    ("report.pdf", pe_exe()),  # an executable under a harmless name
)
EXPECTED = {
    "readme.txt": TEXT,
    "tools/setup.exe": EXECUTABLE,
    "logo.png": IMAGE,
    "report.pdf": EXECUTABLE,
}


class Unseekable(io.RawIOBase):
    """An output zipfile cannot seek back into, so it writes data descriptors (flag bit 3),
    as any zip streamed to a socket is written."""

    def __init__(self) -> None:
        self.data = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, b: bytes) -> int:  # type: ignore[override]
        self.data += b
        return len(b)


def make_zip(method: int, *, stream: bool = False, zip64: bool = False) -> bytes:
    out: io.BytesIO | Unseekable = Unseekable() if stream else io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=method) as archive:
        for name, data in MEMBERS:
            info = zipfile.ZipInfo(name)
            info.compress_type = method  # a ZipInfo of our own does not take the archive's
            with archive.open(info, "w", force_zip64=zip64) as member:
                member.write(data)
    return bytes(out.data) if isinstance(out, Unseekable) else out.getvalue()


def feed(data: bytes, size: int, typer: ZipStreamTyper | None = None) -> list[ZipMember]:
    typer = typer or ZipStreamTyper()
    members: list[ZipMember] = []
    for start in range(0, len(data), size):
        members += typer.feed(data[start : start + size])
    return members + typer.finish()


ZIPS = {
    "stored": make_zip(zipfile.ZIP_STORED),
    "deflated": make_zip(zipfile.ZIP_DEFLATED),
    "stored, data descriptors": make_zip(zipfile.ZIP_STORED, stream=True),
    "deflated, data descriptors": make_zip(zipfile.ZIP_DEFLATED, stream=True),
    "deflated, zip64": make_zip(zipfile.ZIP_DEFLATED, zip64=True),
    "deflated, zip64, data descriptors": make_zip(zipfile.ZIP_DEFLATED, stream=True, zip64=True),
}


# --- every kind of zip, in chunks of every size ----------------------------------------------


@pytest.mark.parametrize("kind", list(ZIPS))
@pytest.mark.parametrize("chunk", [1 << 20, 65536, 1000, 61])
def test_members_are_named_and_typed_in_any_chunking(kind: str, chunk: int) -> None:
    typer = ZipStreamTyper()
    members = feed(ZIPS[kind], chunk, typer)
    assert [m.name for m in members] == [name for name, _ in MEMBERS]
    for member, (_, data) in zip(members, MEMBERS, strict=True):
        assert member.head == data[:SNIFF_BYTES]
        assert not member.encrypted and member.note is None
        assert member.data_descriptor == ("descriptors" in kind)
        assert member.zip64 == ("zip64" in kind)
    assert {m.name: type_member(m) for m in members if m.name in EXPECTED} == EXPECTED
    assert typer.complete and not typer.incomplete and typer.reason is None


def test_one_byte_at_a_time_splits_every_header_and_signature() -> None:
    # Small members only, so that every byte boundary of every structure is crossed.
    first = b"first PK\x03\x04 inside the data, not a header\n"
    out = Unseekable()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr("a.txt", first)
        archive.writestr("b.exe", pe_exe()[:200])
        archive.writestr("c.txt", b"")
    members = feed(bytes(out.data), 1)
    assert [(m.name, m.uncompressed_size) for m in members] == [
        ("a.txt", len(first)),
        ("b.exe", 200),
        ("c.txt", 0),
    ]
    # Control bytes (the signature) make a.txt binary to the sniffer; b.exe is a program.
    assert [type_member(m) for m in members][:2] == [UNKNOWN, EXECUTABLE]


@pytest.mark.parametrize("kind", ["stored", "deflated"])
def test_sizes_and_method_come_from_the_local_header(kind: str) -> None:
    members = feed(ZIPS[kind], 1 << 20)
    noise = members[3]
    assert noise.uncompressed_size == len(NOISE)
    assert noise.method == (0 if kind == "stored" else 8)
    assert noise.compressed_size is not None and noise.compressed_size >= len(NOISE) - 1000


def test_sizes_of_an_inflated_descriptor_member_are_counted() -> None:
    members = feed(ZIPS["deflated, data descriptors"], 1 << 20)
    readme = members[0]
    assert readme.uncompressed_size == len(README)
    assert readme.compressed_size is not None and readme.compressed_size < len(README)
    # The big member is typed from its head, before its end: sizes unknown there.
    partial = feed(ZIPS["deflated, data descriptors"], 4096)
    assert partial[3].uncompressed_size is None


def test_members_are_reported_as_soon_as_their_head_is_known() -> None:
    data = ZIPS["stored"]
    typer = ZipStreamTyper()
    header = 30 + len("readme.txt")
    assert len(README) > SNIFF_BYTES
    first = typer.feed(data[: header + SNIFF_BYTES - 1])
    assert first == []  # one byte short of what the sniffer needs: still collecting
    second = typer.feed(data[header + SNIFF_BYTES - 1 : header + SNIFF_BYTES])
    assert [m.name for m in second] == ["readme.txt"]


# --- nested zips, encrypted and unusual members --------------------------------------------


def test_a_zip_inside_a_zip_is_typed_as_an_archive() -> None:
    inner = ZIPS["deflated"]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr("inner.zip", inner)
        archive.writestr("letter.docx", _docx_head())
    members = feed(buffer.getvalue(), 4096)
    assert [type_member(m) for m in members] == [ARCHIVE, DOCUMENT]
    # The inner zip's own members are typed by a typer of its own over the head.
    nested = ZipStreamTyper().feed(members[0].head)
    assert nested[0].name == "readme.txt"


def _docx_head() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


def _set_flag(data: bytes, member_offset: int, bit: int) -> bytes:
    flags = struct.unpack_from("<H", data, member_offset + 6)[0]
    patched = bytearray(data)
    struct.pack_into("<H", patched, member_offset + 6, flags | bit)
    return bytes(patched)


@pytest.mark.parametrize("kind", ["stored", "deflated"])
def test_encrypted_members_are_reported_and_typed_by_name(kind: str) -> None:
    data = ZIPS[kind]
    offsets = [m.offset for m in feed(data, 1 << 20)]
    encrypted = _set_flag(data, offsets[1], 0x1)  # tools/setup.exe
    members = feed(encrypted, 333)
    setup = members[1]
    assert setup.encrypted and setup.head == b"" and setup.note == "encrypted"
    assert type_member(setup) == EXECUTABLE  # the name is all there is; programs are believed
    assert [m.name for m in members] == [name for name, _ in MEMBERS]
    assert not members[0].encrypted


@pytest.mark.parametrize("kind", ["stored, data descriptors", "deflated, data descriptors"])
def test_an_encrypted_member_of_unknown_size_is_skipped_by_its_descriptor(kind: str) -> None:
    data = ZIPS[kind]
    offsets = [m.offset for m in feed(data, 1 << 20)]
    members = feed(_set_flag(data, offsets[0], 0x1), 50)
    # Reported at once (its head cannot be read), then passed by scanning.
    assert members[0].encrypted and members[0].compressed_size is None
    assert [m.name for m in members] == [name for name, _ in MEMBERS]
    assert {m.name: type_member(m) for m in members if m.name in EXPECTED} == EXPECTED | {
        "readme.txt": UNKNOWN  # no bytes, and a name claiming text is not believed alone
    }


def test_an_unread_compression_method_is_noted_and_the_member_skipped() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("notes.txt", README, compress_type=zipfile.ZIP_BZIP2)
        archive.writestr("run.exe", pe_exe(), compress_type=zipfile.ZIP_LZMA)
        archive.writestr("plain.txt", b"plain text\n")
    members = feed(buffer.getvalue(), 100)
    assert [(m.name, m.note) for m in members] == [
        ("notes.txt", "compressed with bzip2"),
        ("run.exe", "compressed with lzma"),
        ("plain.txt", None),
    ]
    assert type_member(members[1]) == EXECUTABLE
    assert type_member(members[2]) == TEXT


def test_names_in_utf8_and_in_the_pc_code_page() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("Übersicht.txt", b"x")  # zipfile sets the UTF-8 flag
        archive.writestr("plain.txt", b"y")
    data = bytearray(buffer.getvalue())
    members = feed(bytes(data), 64)
    assert [m.name for m in members] == ["Übersicht.txt", "plain.txt"]
    # The same bytes without the UTF-8 flag are read as code page 437, as unzip does.
    flags = struct.unpack_from("<H", data, 6)[0]
    struct.pack_into("<H", data, 6, flags & ~0x800)
    assert feed(bytes(data), 64)[0].name == "Übersicht.txt".encode().decode("cp437")


# --- streams that cannot be followed, and the bounds -----------------------------------------


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"%PDF-1.7\n", "not a zip stream at offset 0"),
        (b"", "the stream ends before the central directory"),
        (b"PK\x03", "the stream ends before the central directory"),
    ],
)
def test_what_is_not_a_zip_stops_the_typer(data: bytes, reason: str) -> None:
    typer = ZipStreamTyper()
    assert feed(data, 4, typer) == []
    assert typer.done and typer.incomplete and typer.reason == reason


def test_a_stream_cut_inside_a_member_reports_it_and_stops() -> None:
    data = ZIPS["deflated"]
    offsets = [m.offset for m in feed(data, 1 << 20)]
    typer = ZipStreamTyper()
    members = feed(data[: offsets[1] + 80], 16, typer)
    assert [m.name for m in members] == ["readme.txt", "tools/setup.exe"]
    assert typer.incomplete
    assert (
        typer.reason
        == "the stream ends inside member 'tools/setup.exe' before the central directory"
    )


def test_garbage_between_members_stops_with_its_offset() -> None:
    data = ZIPS["stored"]
    offsets = [m.offset for m in feed(data, 1 << 20)]
    spoiled = data[: offsets[1]] + b"garbage!" + data[offsets[1] :]
    typer = ZipStreamTyper()
    members = feed(spoiled, 1000, typer)
    assert [m.name for m in members] == ["readme.txt"]
    assert typer.reason == f"no zip header at offset {offsets[1]}"


def test_corrupt_deflate_data_of_unknown_size_stops_the_typer() -> None:
    data = bytearray(ZIPS["deflated, data descriptors"])
    start = 30 + len("readme.txt")
    data[start : start + 8] = b"\xff" * 8  # an invalid deflate block type
    typer = ZipStreamTyper()
    members = feed(bytes(data), 512, typer)
    assert members[0].note is not None and members[0].note.startswith("corrupt deflate data")
    assert typer.incomplete and typer.reason == "corrupt deflate data in member 'readme.txt'"


def test_a_member_bound_stops_after_that_many_members() -> None:
    typer = ZipStreamTyper(max_members=2)
    members = feed(ZIPS["deflated"], 4096, typer)
    assert [m.name for m in members] == ["readme.txt", "tools/setup.exe"]
    assert typer.incomplete and typer.reason == "stopped after 2 members"


def test_a_byte_bound_stops_the_typer_and_returns_nothing_after() -> None:
    typer = ZipStreamTyper(max_bytes=100_000)
    members = feed(ZIPS["stored"], 65536, typer)
    assert [m.name for m in members] == [
        "readme.txt",
        "tools/setup.exe",
        "logo.png",
        "data/noise.bin",
    ]
    assert typer.reason == "stopped after 100000 bytes"
    assert typer.feed(ZIPS["stored"]) == [] and typer.finish() == []


@pytest.mark.parametrize("bad", [0, -1, True, 1.5, "10"])
def test_bounds_must_be_positive_integers(bad: object) -> None:
    with pytest.raises(ValueError, match="max_members must be a positive integer"):
        ZipStreamTyper(max_members=bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="max_bytes must be a positive integer"):
        ZipStreamTyper(max_bytes=bad)  # type: ignore[arg-type]


def test_hostile_bytes_never_raise() -> None:
    rng = random.Random(11)
    base = ZIPS["deflated, data descriptors"]
    for _ in range(200):
        spoiled = bytearray(base[:5000])
        for _ in range(rng.randint(1, 20)):
            spoiled[rng.randrange(len(spoiled))] = rng.randrange(256)
        typer = ZipStreamTyper()
        for member in feed(bytes(spoiled), rng.randint(1, 700), typer):
            type_member(member)
        assert typer.done
