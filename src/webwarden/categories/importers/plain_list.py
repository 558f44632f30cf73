"""Plain lists: one domain (or `host/path` URL, or IP address) per line, `#` comments."""

from __future__ import annotations

from pathlib import Path

from webwarden.categories.importers.lines import import_entry_lines
from webwarden.categories.importers.result import ImportResult, SourceError
from webwarden.categories.names import check_category_name


def import_plain_list(path: Path, category: str) -> ImportResult:
    """Import a plain list; entries with a path become URL entries (reported)."""
    check_category_name(category)
    result = ImportResult(sources=[str(path)])
    try:
        stream = path.open("rb")
    except OSError as error:
        raise SourceError(f"{path}: cannot read ({error.strerror})") from None
    with stream:
        import_entry_lines(stream, str(path), category, url_list=False, result=result)
    return result
