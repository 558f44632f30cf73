"""Categories: which categories a host or URL belongs to.

Lists (UT1/squidGuard folders and archives, hosts files, plain lists) are imported,
compiled into a snapshot file that every process maps, and looked up through a
CategoryIndex, with local overrides on top. See docs/categories.md.
"""

from webwarden.categories.errors import CategoryError
from webwarden.categories.index import CategoryIndex, open_index
from webwarden.categories.normalise import HostError, normalise_host, split_url
from webwarden.categories.overrides import OverridesError
from webwarden.categories.shipped import default_index, shipped_category_names
from webwarden.categories.snapshot import SnapshotError

__all__ = [
    "CategoryError",
    "CategoryIndex",
    "HostError",
    "OverridesError",
    "SnapshotError",
    "default_index",
    "normalise_host",
    "open_index",
    "shipped_category_names",
    "split_url",
]
