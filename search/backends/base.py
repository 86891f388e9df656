"""What a search backend does: match a parsed query, rank matches, and keep its index.

A backend never decides what a query means (``search.text`` does) nor how results
are faceted or shown (``search.finder`` does, on the catalog's own columns). It
answers which files match — as SQL selecting their ids from the index alone
(``match_sql``), or as a filter on a FileEntry queryset — and how well (``score_sql``),
and it (re)indexes sets of files. An OpenSearch backend would implement the same
methods (see docs/search.md).

How a term's fragment is matched: a file's ``path/filename`` contains the fragment
when its filename does, when its folder's path does (``FolderIndex``: one row per
folder), or — for a fragment with a ``/`` — when the part before the last ``/`` ends
the folder's path and the part after it starts the filename (``rehearsal/IMG_0``).
Filenames never contain ``/``, so nothing else can match.
"""

# Set-based SQL: only module constants and the catalog's names (``catalog.schema``) are
# interpolated; every value is a parameter.
# ruff: noqa: S608, S611

from collections.abc import Callable
from dataclasses import dataclass

from django.db import connection
from django.db.models import QuerySet
from django.db.models.expressions import RawSQL

from catalog.schema import FILE_ENTRY, FOLDER, PROJECT_GROUP
from search.text import Query, Term

from .sql import FOLDERS, TABLE

Progress = Callable[[int, int], None]

#: Rows per statement when indexing: bounded memory and transaction size.
CHUNK = 1000
#: Rows per statement when rebuilding everything (ranges of ids, no IN lists).
REBUILD_CHUNK = 100_000

#: Relevance weights per term (see ``ranked_sql`` and docs/search.md).
WEIGHTS = {
    "name_exact": 16,
    "oshash": 12,
    "name": 8,
    "title": 4,
    "tags": 2,
    "body": 1,
    "folder": 1,
}
#: The columns whose words rank, with their weights.
WORD_COLUMNS = ("title", "tags", "body")


@dataclass(frozen=True)
class IndexFacets:
    """The facets the index holds too (only imports set them): drives and types. A query
    with them is narrowed inside the index."""

    drives: tuple[int, ...] = ()
    categories: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.drives or self.categories)

    def condition(self) -> tuple[str, list] | None:
        """The facets as a condition on the index row ``ix`` (None without any)."""
        clauses, params = [], []
        for column, values in (("drive_id", self.drives), ("category", self.categories)):
            if values:
                clauses.append(f"ix.{column} IN ({', '.join(['%s'] * len(values))})")
                params += values
        return (" AND ".join(clauses), params) if clauses else None


NO_FACETS = IndexFacets()


class SearchBackend:
    vendor = ""
    #: SQL that folds a text column the way ``search.text.fold`` folds a query.
    fold_sql = "{}"
    #: True when the index row's ``imported_at`` equals the file's (a null-safe test).
    same_import_sql = f"ix.imported_at IS f.{FILE_ENTRY.imported_at}"

    # ------------------------------------------------------------------- matching

    def match_sql(self, query: Query) -> tuple[str, list]:
        """SQL selecting ``file_id`` — once each — of the files matching every term."""
        raise NotImplementedError

    def folder_sql(self, pattern_kind: str, text: str) -> tuple[str, list]:
        """SQL selecting the ids of folders whose folded path contains ``text``
        (``pattern_kind="contains"``) or ends with it (``"ends"``, never the root)."""
        raise NotImplementedError

    def filter(self, queryset: QuerySet, query: Query) -> QuerySet:
        """``queryset`` narrowed to the files matching every term of ``query``."""
        if not query.terms:
            return queryset.none()
        sql, params = self.match_sql(query)
        return queryset.filter(pk__in=RawSQL(sql, params))

    @staticmethod
    def oshash_sql(term: Term, *, as_file_id: bool = False) -> tuple[str, list]:
        """Files whose oshash starts with the term (the catalog's ``(oshash, size)`` index;
        oshashes are stored in lower case), their id named ``file_id`` with ``as_file_id``."""
        prefix = term.hex_prefix or ""
        oshash = FILE_ENTRY.oshash
        return (
            f"SELECT {FILE_ENTRY.id}{' AS file_id' if as_file_id else ''} FROM {FILE_ENTRY} "
            f"WHERE {oshash} >= %s AND {oshash} < %s",
            [prefix, prefix + "g"],
        )

    def ranked_sql(
        self, query: Query, *, score: bool = True, facets: IndexFacets = NO_FACETS
    ) -> tuple[str, list]:
        """SQL selecting ``file_id`` and ``score`` (relevance, or 0 without ``score``) of
        the matching files on the chosen drives and types (``facets``). Per term: exact
        filename 16, filename contains the term 8, oshash prefix 12, a hit in the title
        4, in the project group/camera 2, in the description/notes 1, folder path
        contains the term 1 (a hit: the term's words start words there on SQLite — from
        the FTS index — and the term is in the text on PostgreSQL)."""
        raise NotImplementedError

    # ------------------------------------------------------------------- indexing

    def prepare(self) -> None:
        """Per-connection set-up before writing the index (e.g. SQL functions)."""

    def _select_rows(self) -> str:
        """The index rows of the files ``f`` (a FROM/JOIN follows)."""
        fold, f, g = self.fold_sql.format, FILE_ENTRY, PROJECT_GROUP
        body = self.folded_words(f"f.{f.description}", f"f.{f.notes}")
        tags = self.folded_words(f"COALESCE(g.{g.name}, '')", f"f.{f.camera}")
        return (
            f"SELECT f.{f.id}, f.{f.folder}, f.{f.drive}, f.{f.category}, "
            f"{fold(f'f.{f.filename}')}, {fold(f'f.{f.title}')}, {body}, {tags}, "
            f"f.{f.imported_at} FROM {f} f "
            f"LEFT JOIN {g} g ON g.{g.id} = f.{f.project_group} "
        )

    def folded_words(self, *parts: str) -> str:
        """SQL: the text columns ``parts``, joined by spaces, folded."""
        return self.fold_sql.format(" || ' ' || ".join(parts))

    COLUMNS = "(file_id, folder_id, drive_id, category, name, title, body, tags, imported_at)"

    def _index_folders_sql(self, folder_condition: str) -> str:
        """Index the folders satisfying ``folder_condition`` (on ``d``) not indexed yet."""
        return (
            f"INSERT INTO {FOLDERS} (folder_id, location) "
            f"SELECT d.{FOLDER.id}, {self.fold_sql.format(f'd.{FOLDER.path}')} FROM {FOLDER} d "
            f"WHERE {folder_condition} "
            f"AND NOT EXISTS (SELECT 1 FROM {FOLDERS} x WHERE x.folder_id = d.{FOLDER.id})"
        )

    def index_where(
        self, condition: str, params: list, *, folders: tuple[str, list] | None = None
    ) -> int:
        """(Re)index the files ``f`` satisfying ``condition`` and their folders (or the
        folders ``d`` satisfying ``folders``, when given); return file rows written."""
        raise NotImplementedError

    def index_files(self, ids: list[int]) -> int:
        written = 0
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start : start + CHUNK]
            placeholders = ", ".join(["%s"] * len(chunk))
            written += self.index_where(f"f.{FILE_ENTRY.id} IN ({placeholders})", chunk)
        return written

    #: Take a file newer than every indexed one (an import's new files) as unindexed
    #: without looking it up. Off where the lookup is a hash anti-join (PostgreSQL):
    #: probing a re-imported drive's files one by one there costs more than hashing the
    #: index.
    new_files_unlooked = False

    def _unindexed(self) -> str:
        unindexed = (
            f"NOT EXISTS (SELECT 1 FROM {TABLE} ix "
            f"WHERE ix.file_id = f.{FILE_ENTRY.id} AND {self.same_import_sql})"
        )
        if self.new_files_unlooked:
            newer = f"f.{FILE_ENTRY.id} > (SELECT COALESCE(MAX(file_id), 0) FROM {TABLE})"
            unindexed = f"({newer} OR {unindexed})"
        return f"f.{FILE_ENTRY.drive} = %s AND {unindexed}"

    def index_drive(self, drive_id: int) -> int:
        """Index the drive's files that are new or changed since they were indexed."""
        return self.index_where(self._unindexed(), [drive_id])

    def count_unindexed(self, drive_id: int, *, limit: int) -> int:
        """How many of the drive's files need indexing, counting no further than ``limit``."""
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT COUNT(*) FROM (SELECT 1 FROM {FILE_ENTRY} f "
                f"WHERE {self._unindexed()} LIMIT %s) t",
                [drive_id, limit],
            )
            return cursor.fetchone()[0]

    def rebuild(self, progress: Progress | None = None) -> int:
        """Empty the index and index every file (and folder), in id ranges."""
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT COALESCE(MIN({FILE_ENTRY.id}), 0), COALESCE(MAX({FILE_ENTRY.id}), 0), "
                f"COUNT(*) FROM {FILE_ENTRY}"
            )
            low, high, total = cursor.fetchone()
        self.prepare()
        self.before_rebuild()
        written = 0
        with connection.cursor() as cursor:
            cursor.execute(self._index_folders_sql("TRUE"))
            for start in range(low, high + 1, REBUILD_CHUNK):
                cursor.execute(
                    f"INSERT INTO {TABLE} {self.COLUMNS} {self._select_rows()}"
                    f"WHERE f.{FILE_ENTRY.id} >= %s AND f.{FILE_ENTRY.id} < %s",
                    [start, start + REBUILD_CHUNK],
                )
                written += cursor.rowcount
                if progress:
                    progress(written, total)
        self.after_rebuild()
        return written

    def before_rebuild(self) -> None:
        raise NotImplementedError

    def after_rebuild(self) -> None:
        raise NotImplementedError


def like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def glob_escape(text: str) -> str:
    """``text`` as a literal inside a SQLite GLOB pattern."""
    return "".join(f"[{ch}]" if ch in "*?[" else ch for ch in text)
