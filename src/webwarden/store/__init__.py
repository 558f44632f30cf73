"""The database: the only package that talks to it.

`make_engine(url)` opens it (SQLite in the state directory by default) and creates missing
tables; `ConsentStore` keeps consents; `audit_log` reads and writes audit rows.
"""

from webwarden.store.consents import ConsentStore
from webwarden.store.engine import default_url, make_engine, state_dir

__all__ = ["ConsentStore", "default_url", "make_engine", "state_dir"]
