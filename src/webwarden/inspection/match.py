"""The result of looking at bytes, and the helpers every signature check uses."""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass
from enum import IntEnum


class Strength(IntEnum):
    """How far a match can be trusted: STRONG for a signature, CONTAINER for a ZIP or OLE
    file whose members did not show what it is, WEAK for text, HTML and unknown binary."""

    WEAK = 0
    CONTAINER = 1
    STRONG = 2


@dataclass(frozen=True, slots=True)
class Match:
    label: str
    mime: str
    detail: str
    strength: Strength = Strength.STRONG


# WHATWG MIME sniffing: bytes that never occur in text.
_BINARY_BYTE = re.compile(rb"[\x00-\x08\x0b\x0e-\x1a\x1c-\x1f]")


def is_binary(data: bytes) -> bool:
    return _BINARY_BYTE.search(data) is not None


def u16le(data: bytes, at: int) -> int:
    return int(struct.unpack_from("<H", data, at)[0])


def u32le(data: bytes, at: int) -> int:
    return int(struct.unpack_from("<I", data, at)[0])


def u32be(data: bytes, at: int) -> int:
    return int(struct.unpack_from(">I", data, at)[0])
