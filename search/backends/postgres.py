"""PostgreSQL: a weighted ``tsvector`` (GIN) for words, ``pg_trgm`` (GIN) for fragments
of ``path/filename``, a ``text_pattern_ops`` btree for oshash prefixes — all on the one
index table, so each term is one BitmapOr and the terms one BitmapAnd."""

# Set-based SQL: only module constants are interpolated; every value is a parameter.
# ruff: noqa: S608, S611

from django.db import connection
from django.db.models import QuerySet
from django.db.models.expressions import RawSQL

from search.text import Query

from .base import SearchBackend, like_escape
from .sql import PG_DROP_INDEXES, PG_INDEXES, TABLE


class PostgresBackend(SearchBackend):
    vendor = "postgresql"
    # Folding in SQL (lower() needs a UTF-8 LC_CTYPE such as C.UTF-8; see docs/search.md).
    fold_sql = "normalize(lower({}), NFC)"
    same_import_sql = "ix.imported_at IS NOT DISTINCT FROM f.imported_at"

    def filter(self, queryset: QuerySet, query: Query) -> QuerySet:
        clauses, params = [], []
        for term in query.terms:
            alternatives = []
            if term.words:
                alternatives.append("words @@ to_tsquery('simple'::regconfig, %s)")
                params.append(" & ".join(f"'{word}':*" for word in term.words))
            if term.fragment:
                alternatives.append("location LIKE %s")
                params.append(f"%{like_escape(term.fragment)}%")
            if term.hex_prefix:
                alternatives.append("oshash LIKE %s")
                params.append(f"{term.hex_prefix}%")
            clauses.append(f"({' OR '.join(alternatives)})")
        if not clauses:
            return queryset.none()
        sql = f"SELECT file_id FROM {TABLE} WHERE {' AND '.join(clauses)}"
        return queryset.filter(pk__in=RawSQL(sql, params))

    def before_rebuild(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {TABLE}")
            for sql in PG_DROP_INDEXES:
                cursor.execute(sql)

    def after_rebuild(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
            for sql in PG_INDEXES:
                cursor.execute(sql)
            cursor.execute(f"ANALYZE {TABLE}")
