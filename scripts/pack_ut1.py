#!/usr/bin/env python3
"""Pack a UT1 list folder into the compressed archive shipped inside the package.

    python scripts/pack_ut1.py SOURCE_DIR [--output-dir src/webwarden/data]

Writes `ut1.tar.xz` (members under `ut1/`, sorted, owner and times zeroed, so the same
folder always gives the same bytes) and `manifest.json` (the archive's SHA-256 and
its category names, read by webwarden.categories.shipped without unpacking anything).
The folder must hold `<category>/domains` and `<category>/urls`; README, licence,
SHA256SUMS and global_usage are packed along so the credit travels with the data.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import lzma
import re
import sys
import tarfile
from pathlib import Path
from typing import Any

CATEGORY_NAME = re.compile(r"[a-z0-9][a-z0-9_.-]{0,62}")
PACKAGE_DATA = Path(__file__).resolve().parent.parent / "src" / "webwarden" / "data" / "ut1"


def pack(source: Path, output_dir: Path) -> dict[str, Any]:
    files = sorted(p for p in source.rglob("*") if p.is_file() and not p.is_symlink())
    categories = sorted(
        {p.parent.name for p in files if p.name in ("domains", "urls") and p.parent != source}
    )
    bad = [c for c in categories if not CATEGORY_NAME.fullmatch(c)]
    if not categories or bad:
        raise SystemExit(f"{source}: no category folders, or bad names: {bad}")
    buffer = io.BytesIO()
    with (
        lzma.open(buffer, "wb", preset=9 | lzma.PRESET_EXTREME) as xz,
        tarfile.open(fileobj=xz, mode="w", format=tarfile.PAX_FORMAT) as tar,
    ):
        for path in files:
            info = tarfile.TarInfo("ut1/" + path.relative_to(source).as_posix())
            info.size = path.stat().st_size
            info.mode = 0o644
            info.mtime = 0
            with path.open("rb") as data:
                tar.addfile(info, data)
    archive = buffer.getvalue()
    output_dir.mkdir(parents=True, exist_ok=True)
    (output_dir / "ut1.tar.xz").write_bytes(archive)
    manifest = {
        "archive": "ut1.tar.xz",
        "sha256": hashlib.sha256(archive).hexdigest(),
        "categories": categories,
        "files": len(files),
        "unpacked_bytes": sum(p.stat().st_size for p in files),
        "credit": "Blacklists UT1, Université Toulouse Capitole, CC BY-SA 4.0 (see UT1-CREDITS.md)",
    }
    text = json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"
    (output_dir / "manifest.json").write_text(text, encoding="utf-8")
    return manifest


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="UT1 folder (<category>/domains|urls)")
    parser.add_argument("--output-dir", type=Path, default=PACKAGE_DATA)
    args = parser.parse_args()
    manifest = pack(args.source, args.output_dir)
    print(
        f"packed {manifest['files']} files, {len(manifest['categories'])} categories, "
        f"sha256 {manifest['sha256']}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
