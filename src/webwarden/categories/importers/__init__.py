"""Importers: squidGuard/UT1 folders and archives, hosts files, plain lists.

Each returns an ImportResult: the entries by category and every rejected or adjusted
line with its file, line number and reason.
"""

from webwarden.categories.importers.hosts_file import import_hosts_file
from webwarden.categories.importers.plain_list import import_plain_list
from webwarden.categories.importers.result import ImportResult, LineIssue, SourceError
from webwarden.categories.importers.ut1 import import_ut1_archive, import_ut1_dir

__all__ = [
    "ImportResult",
    "LineIssue",
    "SourceError",
    "import_hosts_file",
    "import_plain_list",
    "import_ut1_archive",
    "import_ut1_dir",
]
