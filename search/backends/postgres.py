"""PostgreSQL: a weighted ``tsvector`` expression index (GIN) for words, ``pg_trgm``
GIN indexes on the folded filename and on the folder paths for fragments, a btree on
``folder_id``, and the catalog's ``(oshash, size)`` btree for oshash prefixes. Every
alternative of a term is an index condition on the one file index table (folder and
oshash ids come from an InitPlan, ``= ANY(ARRAY(…))``), so each term is one BitmapOr
and the terms a BitmapAnd. Big imports go through the GIN pending lists (see
``index_where``).
"""

# Set-based SQL: only module constants and the catalog's names (``catalog.schema``) are
# interpolated; every value is a parameter.
# ruff: noqa: S608

from django.db import connection, transaction

from catalog.schema import FILE_ENTRY, FOLDER
from search import text as folding
from search.text import Query

from .base import NO_FACETS, WEIGHTS, WORD_COLUMNS, IndexFacets, SearchBackend, like_escape
from .sql import (
    FACET_TOKENS,
    FOLDERS,
    PG_DROP_INDEXES,
    PG_GIN_INDEXES,
    PG_INDEXES,
    PG_WORDS,
    TABLE,
)

WORDS = PG_WORDS.format("ix.")


def _fold_sql() -> str:
    """``search.text.fold`` as a SQL template (``{0}``: the text), from its own tables
    (tests/search/test_accents.py folds the same strings both ways and compares)."""
    accents = "([a-z\\u00c0-\\u024f\\u1e00-\\u1eff])[\\u0300-\\u036f]+"
    folded = f"regexp_replace(normalize(lower({{0}}), NFD), '{accents}', '\\1', 'g')"
    for letters, plain in folding.LATIN_LIGATURES:
        folded = f"replace({folded}, '{letters}', '{plain}')"
    letters = "".join(chr(code) for code in folding.LATIN_LETTERS)
    plain = "".join(folding.LATIN_LETTERS.values())
    folded = f"normalize(translate({folded}, '{letters}', '{plain}'), NFC)"
    return f"CASE WHEN octet_length({{0}}) = char_length({{0}}) THEN lower({{0}}) ELSE {folded} END"


class PostgresBackend(SearchBackend):
    vendor = "postgresql"
    # Folding in SQL (lower() needs a UTF-8 LC_CTYPE such as C.UTF-8; see docs/search.md),
    # the steps of ``search.text.fold``. ASCII text (as many characters as bytes) is only
    # lower-cased: no normalize() or regexp_replace() for most names.
    fold_sql = _fold_sql()
    same_import_sql = f"ix.imported_at IS NOT DISTINCT FROM f.{FILE_ENTRY.imported_at}"

    def folder_sql(self, pattern_kind: str, text: str, drives: list[int] = ()) -> tuple[str, list]:
        if pattern_kind == "contains":
            sql, params = (
                f"SELECT folder_id FROM {FOLDERS} WHERE location LIKE %s",
                [f"%{like_escape(text)}%"],
            )
        else:
            sql, params = (
                f"SELECT folder_id FROM {FOLDERS} WHERE location LIKE %s AND location <> ''",
                [f"%{like_escape(text)}"],
            )
        if drives:  # only those drives' folders: a smaller bitmap when a drive is chosen
            sql += (
                f" AND folder_id IN (SELECT {FOLDER.id} FROM {FOLDER} "
                f"WHERE {FOLDER.drive} IN ({', '.join(['%s'] * len(drives))}))"
            )
            params += list(drives)
        return sql, params

    def match_sql(self, query: Query) -> tuple[str, list]:
        folders = _FolderSets(self)
        condition, params = self._match_condition(query, NO_FACETS, folders)
        return (
            f"{folders.with_clause()}SELECT ix.file_id FROM {TABLE} ix WHERE {condition}",
            [*folders.params, *params],
        )

    def ranked_sql(
        self, query: Query, *, score: bool = True, facets: IndexFacets = NO_FACETS
    ) -> tuple[str, list]:
        folders = _FolderSets(self, facets.drives)
        condition, params = self._match_condition(query, facets, folders)
        if within := facets.condition():  # checked on the rows the terms found
            condition, params = f"{condition} AND {within[0]}", [*params, *within[1]]
        expression, score_params = self.score_sql(query, folders) if score else ("0", [])
        return (
            f"{folders.with_clause()}SELECT ix.file_id, {expression} AS score "
            f"FROM {TABLE} ix WHERE {condition}",
            [*folders.params, *score_params, *params],
        )

    def score_sql(self, query: Query, folders: "_FolderSets") -> tuple[str, list]:
        """Relevance of the row ``ix``, computed on it (the bitmap heap scan that finds a
        match has the row at hand). Title, tags and body count when they contain the term
        (``strpos``: a regular expression for "starts a word" costs three times the
        whole query here; SQLite counts words, from its FTS index)."""
        parts, params = [], []
        for term in query.terms:
            parts.append(
                f"CASE WHEN ix.name = %s THEN {WEIGHTS['name_exact']} "
                f"WHEN strpos(ix.name, %s) > 0 THEN {WEIGHTS['name']} ELSE 0 END"
            )
            params += [term.text, term.text]
            for column in WORD_COLUMNS:
                parts.append(
                    f"CASE WHEN strpos(ix.{column}, %s) > 0 THEN {WEIGHTS[column]} ELSE 0 END"
                )
                params.append(term.text)
            if term.fragment:
                # IN (a hashed subplan), not = ANY(array): searched row by row.
                parts.append(
                    f"CASE WHEN ix.folder_id IN (SELECT folder_id FROM "
                    f"{folders('contains', term.fragment)}) THEN {WEIGHTS['folder']} ELSE 0 END"
                )
            if term.hex_prefix:
                hashes, hash_params = self.oshash_sql(term)
                parts.append(
                    f"CASE WHEN ix.file_id IN ({hashes}) THEN {WEIGHTS['oshash']} ELSE 0 END"
                )
                params += hash_params
        return " + ".join(parts) or "0", params

    def _match_condition(
        self, query: Query, facets: IndexFacets, folders: "_FolderSets"
    ) -> tuple[str, list]:
        """The terms as a condition on the row ``ix`` (reading the folder sets ``folders``
        names: its WITH clause goes before the statement). The words come last in each OR: a
        row the trigram index flags for a recheck (every one it finds) has the condition
        evaluated on it, and the words' ``tsvector`` is computed, not stored — a name or
        folder hit answers first (120,000 ``to_tsvector`` calls were 0.6 s for "img").
        A term's words are looked up together with the chosen drives' and types' tokens
        (``FACET_TOKENS``): the index intersects them, and only the rows on those drives
        are read."""
        narrowing = _facet_tsquery(facets)
        clauses, params = [], []
        for term in query.terms:
            alternatives, alternative_params = [], []
            if fragment := term.fragment:
                if "/" not in fragment:
                    alternatives.append("ix.name LIKE %s")
                    alternative_params.append(f"%{like_escape(fragment)}%")
                alternatives.append(
                    f"ix.folder_id = ANY(ARRAY(SELECT folder_id FROM "
                    f"{folders('contains', fragment)}))"
                )
                if "/" in fragment:
                    head, tail = fragment.rsplit("/", 1)
                    alternatives.append(
                        f"(ix.folder_id = ANY(ARRAY(SELECT folder_id FROM "
                        f"{folders('ends', head)})) AND ix.name LIKE %s)"
                    )
                    alternative_params.append(f"{like_escape(tail)}%")
            if term.hex_prefix:
                hashes, hash_params = self.oshash_sql(term)
                alternatives.append(f"ix.file_id = ANY(ARRAY({hashes}))")
                alternative_params += hash_params
            if term.words:
                words = " & ".join(f"'{word}':*" for word in term.words)
                if narrowing:
                    alternatives.append(
                        f"{WORDS} @@ (to_tsquery('simple'::regconfig, %s) && %s::tsquery)"
                    )
                    alternative_params += [words, narrowing]
                else:
                    alternatives.append(f"{WORDS} @@ to_tsquery('simple'::regconfig, %s)")
                    alternative_params.append(words)
            clauses.append(f"({' OR '.join(alternatives)})")
            params += alternative_params
        return " AND ".join(clauses), params

    # ------------------------------------------------------------------- indexing

    UPSERT = (
        "ON CONFLICT (file_id) DO UPDATE SET folder_id = excluded.folder_id, "
        "drive_id = excluded.drive_id, category = excluded.category, "
        "name = excluded.name, title = excluded.title, body = excluded.body, "
        "tags = excluded.tags, imported_at = excluded.imported_at"
    )

    def index_where(
        self, condition: str, params: list, *, folders: tuple[str, list] | None = None
    ) -> int:
        if folders is not None:  # a drive: an import's worth of rows
            return self._index_drive_rows(condition, params, folders)
        folder_condition = (
            f"d.{FOLDER.id} IN (SELECT f.{FILE_ENTRY.folder} FROM {FILE_ENTRY} f WHERE {condition})"
        )
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(self._index_folders_sql(folder_condition), params)
            cursor.execute(
                f"INSERT INTO {TABLE} {self.COLUMNS} {self._select_rows()}WHERE {condition} "
                f"{self.UPSERT}",
                params,
            )
            return cursor.rowcount

    def _index_drive_rows(self, condition: str, params: list, folders: tuple[str, list]) -> int:
        with transaction.atomic(), connection.cursor() as cursor:
            # No other writer until this commits (curator saves wait a few seconds):
            # files newer than every indexed one then cannot have an index row, and are
            # inserted without ON CONFLICT's per-row check (~0.3 s per 100,000 files).
            cursor.execute(f"LOCK TABLE {TABLE} IN SHARE ROW EXCLUSIVE MODE")
            cursor.execute(f"SELECT COALESCE(MAX(file_id), 0) FROM {TABLE}")
            newest = cursor.fetchone()[0]
            # The rows first, folded, into a temporary table (no WAL), then INSERTs from
            # it. An INSERT whose own condition reads the index table (is this file
            # indexed?) can be planned as a nested loop over it while it looked empty —
            # then every row scans every row inserted before it — and probing the
            # catalog row by row while writing the index costs about a second per
            # 100,000 files more than reading them up front.
            cursor.execute(
                "CREATE TEMPORARY TABLE phs_search_rows ON COMMIT DROP AS "
                f"SELECT * FROM ({self._select_rows()}WHERE {condition}) AS r{self.COLUMNS}",
                params,
            )
            gin = cursor.rowcount > 0 and self._owns_gin_indexes(cursor)
            if gin:
                cursor.execute("SET LOCAL gin_pending_list_limit = '1GB'")
            cursor.execute(self._index_folders_sql(folders[0]), folders[1])
            written = 0
            for rows, upsert in (("file_id > %s", ""), ("file_id <= %s", self.UPSERT)):
                cursor.execute(
                    f"INSERT INTO {TABLE} {self.COLUMNS} "
                    f"SELECT * FROM phs_search_rows WHERE {rows} {upsert}",
                    [newest],
                )
                written += cursor.rowcount
            if gin:
                cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
                for index in PG_GIN_INDEXES:
                    cursor.execute("SELECT gin_clean_pending_list(%s::regclass)", [index])
                cursor.execute("SET LOCAL gin_pending_list_limit TO DEFAULT")
                cursor.execute("SET LOCAL maintenance_work_mem TO DEFAULT")
            cursor.execute("DROP TABLE phs_search_rows")
            return written

    @staticmethod
    def _owns_gin_indexes(cursor) -> bool:
        """``gin_clean_pending_list`` needs the indexes' owner (or a member of its role)."""
        cursor.execute(
            "SELECT COUNT(*) = %s AND bool_and(pg_has_role(relowner, 'USAGE')) "
            "FROM pg_class WHERE relname = ANY(%s) AND relkind = 'i'",
            [len(PG_GIN_INDEXES), PG_GIN_INDEXES],
        )
        return bool(cursor.fetchone()[0])

    def index_drive(self, drive_id: int) -> int:
        return self.index_where(
            self._unindexed(), [drive_id], folders=(f"d.{FOLDER.drive} = %s", [drive_id])
        )

    def before_rebuild(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {TABLE}, {FOLDERS}")
            for sql in PG_DROP_INDEXES:
                cursor.execute(sql)

    def after_rebuild(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
            for sql in PG_INDEXES:
                cursor.execute(sql)
            cursor.execute(f"ANALYZE {TABLE}")
            cursor.execute(f"ANALYZE {FOLDERS}")


class _FolderSets:
    """The sets of folders a query's fragments are in, each selected once — a ``WITH``
    query — however often the query reads it (to match and to rank)."""

    def __init__(self, backend: PostgresBackend, drives: tuple[int, ...] = ()):
        self.backend, self.drives = backend, drives
        self.names: dict[tuple[str, str], str] = {}
        self.parts: list[str] = []
        self.params: list = []

    def __call__(self, pattern_kind: str, text: str) -> str:
        """The name of the set of folders whose path contains/ends with ``text``."""
        key = (pattern_kind, text)
        if key not in self.names:
            sql, params = self.backend.folder_sql(pattern_kind, text, self.drives)
            self.names[key] = name = f"folders_{len(self.names)}"
            self.parts.append(f"{name} AS MATERIALIZED ({sql})")
            self.params += params
        return self.names[key]

    def with_clause(self) -> str:
        return f"WITH {', '.join(self.parts)} " if self.parts else ""


def _facet_tsquery(facets: IndexFacets) -> str:
    """The chosen drives' and types' tokens as a ``tsquery`` (any drive, and any type)."""
    groups = []
    for column, values in (("drive_id", facets.drives), ("category", facets.categories)):
        if values:
            groups.append(
                "(" + " | ".join(FACET_TOKENS[column].format(value) for value in values) + ")"
            )
    return " & ".join(groups)
