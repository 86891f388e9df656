"""What a search backend does: match a parsed query, and keep its index.

A backend never decides what a query means (``search.text`` does) nor how results
are ranked, faceted or shown (``search.finder`` does, on the catalog's own columns).
It answers one question — which files match — as a filter on a FileEntry queryset,
and it (re)indexes sets of files. An OpenSearch backend would implement the same
methods (see docs/search.md).
"""

# Set-based SQL: only module constants are interpolated; every value is a parameter.
# ruff: noqa: S608

from collections.abc import Callable

from django.db import connection
from django.db.models import QuerySet

from search.text import Query

from .sql import TABLE

Progress = Callable[[int, int], None]

#: Rows per statement when indexing: bounded memory and transaction size.
CHUNK = 1000
#: Rows per statement when rebuilding everything (ranges of ids, no IN lists).
REBUILD_CHUNK = 100_000


class SearchBackend:
    vendor = ""
    #: SQL that folds a text column the way ``search.text.fold`` folds a query.
    fold_sql = "{}"
    #: True when the index row's ``imported_at`` equals the file's (a null-safe test).
    same_import_sql = "ix.imported_at IS f.imported_at"

    # ------------------------------------------------------------------- matching

    def filter(self, queryset: QuerySet, query: Query) -> QuerySet:
        """``queryset`` narrowed to the files matching every term of ``query``."""
        raise NotImplementedError

    # ------------------------------------------------------------------- indexing

    def prepare(self) -> None:
        """Per-connection set-up before writing the index (e.g. SQL functions)."""

    def index_where(self, condition: str, params: list) -> int:
        """(Re)index the files ``f`` satisfying ``condition``; return rows written."""
        fold = self.fold_sql.format
        location = "CASE WHEN f.path = '' THEN f.filename ELSE f.path || '/' || f.filename END"
        body = "f.description || ' ' || f.notes"
        tags = "COALESCE(g.name, '') || ' ' || f.camera"
        sql = (
            f"INSERT INTO {TABLE} "
            "(file_id, name, location, title, body, tags, oshash, imported_at) "
            f"SELECT f.id, {fold('f.filename')}, {fold(location)}, {fold('f.title')}, "
            f"{fold(body)}, {fold(tags)}, "
            "lower(COALESCE(f.oshash, '')), f.imported_at "
            "FROM catalog_fileentry f "
            "LEFT JOIN catalog_projectgroup g ON g.id = f.project_group_id "
            f"WHERE {condition} "
            "ON CONFLICT (file_id) DO UPDATE SET name = excluded.name, "
            "location = excluded.location, title = excluded.title, body = excluded.body, "
            "tags = excluded.tags, oshash = excluded.oshash, imported_at = excluded.imported_at"
        )
        self.prepare()
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.rowcount

    def index_files(self, ids: list[int]) -> int:
        written = 0
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start : start + CHUNK]
            placeholders = ", ".join(["%s"] * len(chunk))
            written += self.index_where(f"f.id IN ({placeholders})", chunk)
        return written

    def _unindexed(self) -> str:
        return (
            f"f.drive_id = %s AND NOT EXISTS (SELECT 1 FROM {TABLE} ix "
            f"WHERE ix.file_id = f.id AND {self.same_import_sql})"
        )

    def index_drive(self, drive_id: int) -> int:
        """Index the drive's files that are new or changed since they were indexed."""
        return self.index_where(self._unindexed(), [drive_id])

    def count_unindexed(self, drive_id: int, *, limit: int) -> int:
        """How many of the drive's files need indexing, counting no further than ``limit``."""
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT COUNT(*) FROM (SELECT 1 FROM catalog_fileentry f "
                f"WHERE {self._unindexed()} LIMIT %s) t",
                [drive_id, limit],
            )
            return cursor.fetchone()[0]

    def rebuild(self, progress: Progress | None = None) -> int:
        """Empty the index and index every file, in id ranges."""
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT COALESCE(MIN(id), 0), COALESCE(MAX(id), 0), COUNT(*) FROM catalog_fileentry"
            )
            low, high, total = cursor.fetchone()
        self.before_rebuild()
        written = 0
        for start in range(low, high + 1, REBUILD_CHUNK):
            written += self.index_where("f.id >= %s AND f.id < %s", [start, start + REBUILD_CHUNK])
            if progress:
                progress(written, total)
        self.after_rebuild()
        return written

    def before_rebuild(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {TABLE}")

    def after_rebuild(self) -> None:
        pass


def like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
