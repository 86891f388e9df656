"""SQLite: two external-content FTS5 tables over the index table — ``unicode61`` for
words (prefix queries), ``trigram`` for fragments of ``path/filename`` — and the index
table's btree for oshash prefixes. Triggers keep the FTS tables in step (0002)."""

# Set-based SQL: only module constants are interpolated; every value is a parameter.
# ruff: noqa: S608, S611

from django.db import connection
from django.db.models import QuerySet
from django.db.models.expressions import RawSQL

from search.text import Query, fold

from .base import SearchBackend
from .sql import (
    SQLITE_DROP_TRIGGERS,
    SQLITE_NAMES,
    SQLITE_TRIGGERS,
    SQLITE_WORDS,
    TABLE,
)


def _quoted(text: str) -> str:
    """An FTS5 string: everything inside is literal (``"`` doubled), never syntax."""
    return '"' + text.replace('"', '""') + '"'


def register_functions(sender, connection, **kwargs) -> None:
    """``connection_created`` receiver: ``phs_fold`` for index writes (``search.text.fold``)."""
    if connection.vendor == "sqlite":
        connection.connection.create_function("phs_fold", 1, fold, deterministic=True)


class SQLiteBackend(SearchBackend):
    vendor = "sqlite"
    # ASCII text folds with SQLite's own lower(); only the rest calls into Python.
    fold_sql = "(CASE WHEN ({0}) GLOB '*[^ -~]*' THEN phs_fold({0}) ELSE lower({0}) END)"

    def filter(self, queryset: QuerySet, query: Query) -> QuerySet:
        if not query.terms:
            return queryset.none()
        for term in query.terms:
            alternatives, params = [], []
            if term.words:
                alternatives.append(
                    f"SELECT rowid FROM {SQLITE_WORDS} WHERE {SQLITE_WORDS} MATCH %s"
                )
                params.append(" ".join(f"{_quoted(word)}*" for word in term.words))
            if term.fragment:
                alternatives.append(
                    f"SELECT rowid FROM {SQLITE_NAMES} WHERE {SQLITE_NAMES} MATCH %s"
                )
                params.append(_quoted(term.fragment))
            if term.hex_prefix:
                alternatives.append(
                    f"SELECT file_id FROM {TABLE} WHERE oshash >= %s AND oshash < %s"
                )
                params += [term.hex_prefix, term.hex_prefix + "g"]
            queryset = queryset.filter(pk__in=RawSQL(" UNION ".join(alternatives), params))
        return queryset

    def prepare(self) -> None:
        connection.ensure_connection()  # registers phs_fold (see register_functions)

    def before_rebuild(self) -> None:
        with connection.cursor() as cursor:
            for sql in SQLITE_DROP_TRIGGERS:
                cursor.execute(sql)
            cursor.execute(f"DELETE FROM {TABLE}")
            for table in (SQLITE_WORDS, SQLITE_NAMES):
                cursor.execute(f"INSERT INTO {table}({table}) VALUES ('delete-all')")

    def after_rebuild(self) -> None:
        with connection.cursor() as cursor:
            for table in (SQLITE_WORDS, SQLITE_NAMES):
                cursor.execute(f"INSERT INTO {table}({table}) VALUES ('rebuild')")
            for sql in SQLITE_TRIGGERS:
                cursor.execute(sql)
