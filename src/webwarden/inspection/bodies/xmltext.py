"""Text out of XML as the parser reads it, through parser targets: no tree is built, so
a deep or large document costs little, and the text read before a cut or a fault is kept.
DTDs and entities are refused (defusedxml): no billion laughs, no external entities."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Final

import defusedxml
from defusedxml.ElementTree import DefusedXMLParser

# Elements ending a line or a cell (paragraphs, headings, rows, cells), and those standing
# for white space, in WordprocessingML, DrawingML and OpenDocument alike.
_BREAKS: Final = {
    "p": "\n",
    "h": "\n",
    "tr": "\n",
    "table-row": "\n",
    "list-item": "\n",
    "tc": "\t",
    "table-cell": "\t",
}
_ROWS: Final = frozenset({"tr", "table-row"})
_MARKS: Final = {"tab": "\t", "br": "\n", "cr": "\n", "line-break": "\n", "s": " "}


def local(tag: str) -> str:
    """The local name of a tag in Clark notation ("{namespace}name")."""
    return tag.rsplit("}", 1)[-1]


def feed_xml(data: bytes, target: object) -> str | None:
    """Runs the parser over `data` into `target`; what went wrong, or None."""
    parser = DefusedXMLParser(target=target, forbid_dtd=True)
    try:
        parser.feed(data)
        parser.close()
    except (ET.ParseError, ValueError, defusedxml.DefusedXmlException) as problem:
        return str(problem) or type(problem).__name__
    return None


class FlowText:
    """Reading-order text with a line break after each paragraph and row and a tab after
    each cell; with `only`, just the text directly inside elements of those local names
    (OOXML keeps text in w:t and a:t, and layout in the rest)."""

    def __init__(self, only: frozenset[str] | None = None) -> None:
        self.only = only
        self.out: list[str] = []
        self.open: list[str] = []

    def start(self, tag: str, attrib: dict[str, str]) -> None:
        name = local(tag)
        self.open.append(name)
        if name in _MARKS:
            self.out.append(_MARKS[name])

    def end(self, tag: str) -> None:
        name = self.open.pop() if self.open else local(tag)
        mark = _BREAKS.get(name)
        if mark is None:
            return
        if mark == "\t" or name in _ROWS:
            # A cell or row ends its last paragraph: one separator, not two.
            while self.out and self.out[-1] in ("\n", "\t"):
                self.out.pop()
        self.out.append(mark)

    def data(self, text: str) -> None:
        if self.only is None or (self.open and self.open[-1] in self.only):
            self.out.append(text)

    def text(self) -> str:
        return "".join(self.out).strip()


class PlainText:
    """All character data, then every attribute value (a SOAP call's parameters are often
    attributes)."""

    def __init__(self) -> None:
        self.out: list[str] = []
        self.attributes: list[str] = []

    def start(self, tag: str, attrib: dict[str, str]) -> None:
        self.attributes.extend(attrib.values())

    def data(self, text: str) -> None:
        self.out.append(text)

    def text(self) -> str:
        text = "".join(self.out)
        return f"{text}\n{' '.join(self.attributes)}" if self.attributes else text


class SharedStrings:
    """The shared string table of a workbook (xl/sharedStrings.xml): one string per si."""

    def __init__(self) -> None:
        self.strings: list[str] = []
        self.open: list[str] = []

    def start(self, tag: str, attrib: dict[str, str]) -> None:
        name = local(tag)
        self.open.append(name)
        if name == "si":
            self.strings.append("")

    def end(self, tag: str) -> None:
        if self.open:
            self.open.pop()

    def data(self, text: str) -> None:
        if self.strings and self.open and self.open[-1] == "t":
            self.strings[-1] += text


class SheetText:
    """A worksheet's cells, tab-separated, a line per row: shared strings looked up,
    inline strings and values (numbers, formula results) as written."""

    def __init__(self, shared: list[str]) -> None:
        self.shared = shared
        self.rows: list[list[str]] = []
        self.open: list[str] = []
        self.kind: str | None = None
        self.value: list[str] = []
        self.in_cell = False

    def start(self, tag: str, attrib: dict[str, str]) -> None:
        name = local(tag)
        self.open.append(name)
        if name == "row" or (name == "c" and not self.rows):
            self.rows.append([])
        if name == "c":
            self.kind, self.value, self.in_cell = attrib.get("t"), [], True

    def end(self, tag: str) -> None:
        name = self.open.pop() if self.open else local(tag)
        if name != "c" or not self.rows:
            return
        self.in_cell = False
        value = "".join(self.value)
        if self.kind == "s":
            index = int(value) if value.strip().isdigit() else -1
            value = self.shared[index] if 0 <= index < len(self.shared) else ""
        self.rows[-1].append(value)

    def data(self, text: str) -> None:
        # "v" holds a value or a shared-string index; "t" inside "is" an inline string.
        if self.in_cell and self.open and self.open[-1] in ("v", "t"):
            self.value.append(text)

    def text(self) -> str:
        return "\n".join("\t".join(cells) for cells in self.rows if any(cells))
