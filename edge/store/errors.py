"""Errors the store raises. Each names a condition the composition root must act on.

Named for the condition, like the drivers' errors (``DeviceUnavailable``), hence the N818 waivers.
"""

from __future__ import annotations


class StoreError(Exception):
    """The entry log cannot be used as asked (base class for every store error)."""


class StoreNotFound(StoreError, FileNotFoundError):  # noqa: N818
    """``Store.open_existing`` was given a path with no database; nothing was created."""


class StoreCorrupt(StoreError):  # noqa: N818
    """The file is not a readable SQLite database, or SQLite hit a damaged page.

    ``Store.open`` raises it when the header or schema cannot be read, or when a damaged file
    still needs a schema migration (we never write a new schema into a damaged file). Damage the
    quick check finds but SQLite can read around does not stop ``open``: it is reported in
    ``Store.integrity`` for the health status. Any later call that reaches a damaged page, or a
    row that no longer parses, raises this error instead of a bare ``sqlite3.DatabaseError``.
    """


class StoreTooNew(StoreError):  # noqa: N818
    """The file's schema was written by a newer program; we refuse to guess at its meaning."""
