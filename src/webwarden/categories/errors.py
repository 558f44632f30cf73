"""The base of every category error except HostError (a ValueError about one host), so a
caller can refuse a bad snapshot, override file or source with one `except`."""

from __future__ import annotations


class CategoryError(Exception):
    """A category source, snapshot or override file that cannot be used."""
