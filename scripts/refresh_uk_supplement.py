#!/usr/bin/env python3
"""Regenerate the UK supplement's list files from its source CSVs.

    python scripts/refresh_uk_supplement.py [--check] [--compiled YYYY-MM-DD]
                                            [--register CODE=FILE]... [--folder DIR]

Reads `sources/<category>.csv` (name,domain,register,reference), checks every entry,
writes `<category>/domains` (and `urls`), sorted and unique, and `manifest.json`, then
prints the entry counts before and after. Nothing is written if any row is bad.
`--check` writes nothing and exits 1 if the files are not what the CSVs give.

`--register PRA=banks.csv` compares the rows citing a register with that register's
published list saved as CSV (the firm name is the first column whose header contains
"name"): rows whose organisation is no longer listed, and listed firms that no row
maps yet, are printed for review. Registers change names and domains rarely; a human
decides each change, the tool only finds them.
"""

from __future__ import annotations

import argparse
import csv
import datetime
import io
import json
import re
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path

from webwarden.categories.uk_supplement import (
    MANIFEST,
    REGISTERS,
    SourceRow,
    SupplementError,
    load_sources,
    make_manifest,
    read_lists,
    render_lists,
)

FOLDER = Path(__file__).resolve().parent.parent / "src" / "webwarden" / "data" / "uk-supplement"
# Words that differ between a register's legal name and the name people use.
_NOISE = re.compile(r"\b(the|plc|p\.l\.c|limited|ltd|uk|bank|building society|company)\b")


def firm_key(name: str) -> str:
    """A comparable form of an organisation name: `The Co-operative Bank p.l.c.` and
    `Co-operative Bank plc` meet. A brand in brackets (`HSBC UK Bank plc (first
    direct)`) is not part of the firm's name."""
    name = name.split(" (", 1)[0].casefold().replace("&", " and ")
    name = _NOISE.sub(" ", name)
    return " ".join(re.sub(r"[^a-z0-9]+", " ", name).split())


def register_names(text: str, source: str) -> set[str]:
    """Firm names from a register's CSV export: the first column whose header says name."""
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff")))
    for header in reader:
        columns = [i for i, title in enumerate(header) if "name" in title.casefold()]
        if columns:
            column = columns[0]
            return {firm_key(row[column]) for row in reader if len(row) > column and row[column]}
    raise SupplementError(f"{source}: no header row with a column named like 'name'")


def register_review(
    rows: Iterable[SourceRow], register: str, names: set[str]
) -> tuple[list[str], list[str]]:
    """(rows whose organisation the register no longer lists, listed firms with no row)."""
    cited = [row for row in rows if row.register == register]
    gone = sorted({f"{row.name} ({row.where})" for row in cited if firm_key(row.name) not in names})
    mapped = {firm_key(row.name) for row in cited}
    return gone, sorted(names - mapped)


def count_changes(old: Mapping[str, bytes], new: Mapping[str, bytes]) -> list[str]:
    """One line per list file: entries before, after, added, removed."""
    lines = []
    for name in sorted(old.keys() | new.keys()):
        before = set(old.get(name, b"").decode("ascii", "replace").split())
        after = set(new.get(name, b"").decode("ascii").split())
        lines.append(
            f"{name:<26} {len(before):>5} -> {len(after):>5}  "
            f"+{len(after - before)} -{len(before - after)}"
        )
    return lines


def write_lists(folder: Path, files: Mapping[str, bytes], manifest: Mapping[str, object]) -> None:
    """Replace the list files and the manifest; list files no longer produced are removed."""
    for name in read_lists(folder).keys() - files.keys():
        (folder / name).unlink()
    for name, data in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    (folder / MANIFEST).write_text(_manifest_text(manifest), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[1])
    parser.add_argument("--folder", type=Path, default=FOLDER, help="the supplement folder")
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if stale")
    parser.add_argument("--compiled", help="date the sources were compiled (default: manifest)")
    codes = ", ".join(sorted(REGISTERS))
    parser.add_argument("--register", action="append", default=[], metavar="CODE=FILE",
                        help=f"a register's CSV export to review against ({codes})")
    args = parser.parse_args(argv)
    folder: Path = args.folder
    try:
        rows = load_sources(folder)
        compiled = _compiled(folder, args.compiled)
        for item in args.register:
            code, _, path = item.partition("=")
            if code not in REGISTERS or not path:
                raise SupplementError(f"--register {item!r}: expected CODE=FILE with a known CODE")
            names = register_names(Path(path).read_text(encoding="utf-8-sig"), path)
            gone, unmapped = register_review(rows, code, names)
            print(f"{code}: {len(gone)} row(s) not on the register, "
                  f"{len(unmapped)} firm(s) unmapped")
            for line in gone:
                print(f"  not listed: {line}")
            for line in unmapped:
                print(f"  unmapped:   {line}")
    except (SupplementError, OSError, UnicodeDecodeError) as error:
        print(f"refresh_uk_supplement: error: {error}", file=sys.stderr)
        return 1
    files = render_lists(rows)
    old = read_lists(folder)
    for line in count_changes(old, files):
        print(line)
    manifest = make_manifest(files, compiled)
    manifest_path = folder / MANIFEST
    current = manifest_path.read_text(encoding="utf-8") if manifest_path.exists() else ""
    up_to_date = old == files and current == _manifest_text(manifest)
    if args.check:
        print("up to date" if up_to_date else "out of date: run scripts/refresh_uk_supplement.py")
        return 0 if up_to_date else 1
    write_lists(folder, files, manifest)
    print(f"wrote {len(files)} list files, {len(rows)} entries, and {MANIFEST}")
    return 0


def _manifest_text(manifest: Mapping[str, object]) -> str:
    return json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"


def _compiled(folder: Path, given: str | None) -> str:
    if given is not None:
        try:
            return datetime.date.fromisoformat(given).isoformat()
        except ValueError:
            raise SupplementError(f"--compiled {given!r}: expected YYYY-MM-DD") from None
    try:
        return str(json.loads((folder / MANIFEST).read_text(encoding="utf-8"))["compiled"])
    except (OSError, ValueError, KeyError) as error:
        raise SupplementError(f"no --compiled date and no usable {MANIFEST} ({error})") from None


if __name__ == "__main__":
    sys.exit(main())
