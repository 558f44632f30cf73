"""hosts-format block lists: `0.0.0.0 ads.example.com tracker.example.net  # comment`.

The address field only marks the line as a block entry; every name on the line becomes
a domain entry of the given category. The usual housekeeping names of a hosts file
(`localhost`, `broadcasthost`, `ip6-allnodes`, ...) are skipped and reported.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path

from webwarden.categories.entries import EntryError, parse_entry
from webwarden.categories.importers.lines import content_lines
from webwarden.categories.importers.result import ImportResult, SourceError
from webwarden.categories.names import check_category_name

HOUSEKEEPING_NAMES = frozenset(
    {
        "localhost",
        "localhost.localdomain",
        "local",
        "broadcasthost",
        "localdomain",
        "ip6-localhost",
        "ip6-loopback",
        "ip6-localnet",
        "ip6-mcastprefix",
        "ip6-allnodes",
        "ip6-allrouters",
        "ip6-allhosts",
        "0.0.0.0",
    }
)


def import_hosts_file(path: Path, category: str) -> ImportResult:
    """Import a hosts-format file; every name becomes a domain entry of `category`."""
    check_category_name(category)
    result = ImportResult(sources=[str(path)], categories={category})
    source = str(path)
    try:
        stream = path.open("rb")
    except OSError as error:
        raise SourceError(f"{path}: cannot read ({error.strerror})") from None
    with stream:
        for number, text in content_lines(stream, source, result):
            address, *names = text.split()
            if not _is_address(address):
                result.reject(
                    source,
                    number,
                    text,
                    "expected 'ADDRESS NAME...': first field is not an IP address",
                )
                continue
            if not names:
                result.reject(source, number, text, "address without a name")
            for name in names:
                if name.lower() in HOUSEKEEPING_NAMES:
                    result.note(source, number, name, "hosts-file housekeeping name skipped")
                    continue
                try:
                    entry = parse_entry(name, url_list=False)
                except EntryError as error:
                    result.reject(source, number, name, str(error))
                    continue
                if entry.path is not None:
                    result.reject(source, number, name, "a hosts file holds names, not URLs")
                    continue
                for note in entry.notes:
                    result.note(source, number, name, note)
                result.add_domain(category, entry.host)
    return result


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return False
    return True
