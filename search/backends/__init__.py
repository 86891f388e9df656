"""The search engine behind one small interface, chosen by the database in use.

``get_backend()`` returns the backend for ``connection.vendor``. Everything else
(the Find files view, the snippet listing, bulk actions, indexing) goes through it.
See docs/search.md for moving to OpenSearch/Elasticsearch behind the same interface.
"""

from django.db import connection

from .base import SearchBackend

_BACKENDS: dict[str, SearchBackend] = {}


def get_backend() -> SearchBackend:
    vendor = connection.vendor
    if vendor not in _BACKENDS:
        if vendor == "postgresql":
            from .postgres import PostgresBackend as backend_class
        elif vendor == "sqlite":
            from .sqlite import SQLiteBackend as backend_class
        else:
            raise NotImplementedError(f"no search backend for {vendor}")
        _BACKENDS[vendor] = backend_class()
    return _BACKENDS[vendor]


__all__ = ["SearchBackend", "get_backend"]
