"""Small UT1-shaped list folders and archives, written where a test says (tmp_path)."""

from __future__ import annotations

import tarfile
from pathlib import Path

# category -> file name -> content; quirks on purpose: CRLF, comments, blank lines,
# duplicates, upper case, an IP, punycode, underscores, a bad line, a split file.
UT1_SAMPLE: dict[str, dict[str, str]] = {
    "gambling": {
        "domains": "pokerstars.com\ncasino.example\r\n# comment\n\nCASINO.example\n"
        "1.2.3.4\nxn--bcher-kva.de\n_under.example\nbad host.example\n",
        "urls": "example.org/casino\nnews.example/poker/\n",
    },
    "games": {"domains": "casino.example\ngames.example\n", "urls": ""},
    "adult": {
        "domains": "adult.example\n",
        "urls": "example.org/adult#top\nexample.org/Adult\n",
        "expressions": "(porn|sex)\n",
    },
    "bank": {"domains": "bank.example\n", "urls": ""},
    "publicite": {"domains.0": "ads.example\n", "domains.1": "tracker.example\n", "urls": ""},
}


def write_ut1(root: Path, sample: dict[str, dict[str, str]] = UT1_SAMPLE) -> Path:
    for category, files in sample.items():
        folder = root / category
        folder.mkdir(parents=True)
        for name, content in files.items():
            (folder / name).write_bytes(content.encode())
    (root / "global_usage").write_text("NAME: gambling\nDESC EN: Gambling\n")
    (root / "README.md").write_text("sample\n")
    (root / "ads").symlink_to("publicite")
    return root


def make_archive(source: Path, archive: Path, prefix: str = "blacklists") -> Path:
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(source, arcname=prefix)
    return archive
