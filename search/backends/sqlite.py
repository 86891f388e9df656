"""SQLite: three external-content FTS5 tables — ``unicode61`` words over the file index
(word prefixes, by column), ``trigram`` over its folded filenames and ``trigram`` over
the folder index's folded paths (fragments, as FTS5 strings) — the file index's
``folder_id`` and ``(drive_id, category)`` btrees, and the catalog's ``(oshash, size)``
btree for oshash prefixes. See ``SQLiteBackend._plan`` for how a query runs."""

# Set-based SQL: only module constants and the catalog's names (``catalog.schema``) are
# interpolated; every value is a parameter.
# ruff: noqa: S608

import json
from dataclasses import dataclass, field

from django.db import connection, transaction

from catalog.schema import FILE_ENTRY, FOLDER
from search.text import Query, Term, fold

from .base import NO_FACETS, WEIGHTS, WORD_COLUMNS, IndexFacets, SearchBackend, glob_escape
from .sql import (
    FOLDERS,
    SQLITE_DROP_INDEXES,
    SQLITE_DROP_TRIGGERS,
    SQLITE_FOLDERS,
    SQLITE_FTS,
    SQLITE_INDEXES,
    SQLITE_NAMES,
    SQLITE_TRIGGERS,
    SQLITE_WORDS,
    TABLE,
)

IDS = "temp.phs_search_ids"


def _quoted(text: str) -> str:
    """An FTS5 string: everything inside is literal (``"`` doubled), never syntax."""
    return '"' + text.replace('"', '""') + '"'


def register_functions(sender, connection, **kwargs) -> None:
    """``connection_created`` receiver: ``phs_fold`` for index writes (``search.text.fold``)."""
    if connection.vendor == "sqlite":
        connection.connection.create_function("phs_fold", 1, fold, deterministic=True)


#: The exact-filename bonus needs each name-containing file's name read back; for a
#: term in more names than this ("img": 120,000) it is left out (see docs/search.md).
EXACT_NAME_LIMIT = 20_000


@dataclass
class _Plan:
    """One term of a query, with what ``SQLiteBackend._plan`` found out about it."""

    term: Term
    #: Folders whose path contains the fragment.
    folders: list[int] = field(default_factory=list)
    #: Folders whose path ends with the fragment's part before its last "/".
    boundary: list[int] = field(default_factory=list)
    #: Files whose name contains the fragment.
    names: int = 0
    #: At most about this many files match (the sum of the alternatives' sizes).
    size: int = 0

    @property
    def name_fragment(self) -> str | None:
        """The fragment, if a filename can contain it (names have no "/")."""
        fragment = self.term.fragment
        return fragment if fragment and "/" not in fragment else None

    def tail_pattern(self) -> str:
        """GLOB: names starting with the fragment's part after its last "/"."""
        return f"{glob_escape((self.term.fragment or '').rsplit('/', 1)[-1])}*"

    def words_match(self, column: str | None = None) -> str:
        """An FTS5 query: every word of the term starts a word (of ``column``)."""
        words = " ".join(f"{_quoted(word)}*" for word in self.term.words)
        return f"{{{column}}} : ({words})" if column else words

    def parts(self, backend, *, weights: bool) -> list[tuple[str, int, list]]:
        """(SQL selecting a ``file_id``, weight, params) for each way a file can match
        — with ``weights``, also the ranking-only sets (words by column, exact name):
        every part is a subset of the matches, and a file's relevance for this term is
        the sum of the weights of the parts it is in."""
        term, found = self.term, []
        words = f"SELECT rowid AS file_id FROM {SQLITE_WORDS} WHERE {SQLITE_WORDS} MATCH %s"
        if term.words:
            found.append((words, 0, [self.words_match()]))
            if weights:
                found += [
                    (words, WEIGHTS[column], [self.words_match(column)]) for column in WORD_COLUMNS
                ]
        if fragment := self.name_fragment:
            names = f"SELECT rowid AS file_id FROM {SQLITE_NAMES} WHERE {SQLITE_NAMES} MATCH %s"
            found.append((names, WEIGHTS["name"] if weights else 0, [_quoted(fragment)]))
            if weights and self.names <= EXACT_NAME_LIMIT:
                exact = WEIGHTS["name_exact"] - WEIGHTS["name"]  # 16 = 8 + 8
                found.append((f"{names} AND name = %s", exact, [_quoted(fragment), fragment]))
        ids = "(SELECT value FROM json_each(%s))"
        if self.folders:
            found.append(
                (
                    f"SELECT file_id FROM {TABLE} WHERE folder_id IN {ids}",
                    WEIGHTS["folder"] if weights else 0,
                    [json.dumps(self.folders)],
                )
            )
        if self.boundary:
            found.append(
                (
                    f"SELECT file_id FROM {TABLE} WHERE folder_id IN {ids} AND name GLOB %s",
                    0,
                    [json.dumps(self.boundary), self.tail_pattern()],
                )
            )
        if term.hex_prefix:
            sql, sql_params = backend.oshash_sql(term, as_file_id=True)
            found.append((sql, WEIGHTS["oshash"] if weights else 0, sql_params))
        return found

    def check(self, column: str, ix: str, plus: str = "") -> tuple[str, list]:
        """SQL: does the file ``column``, index row ``ix``, match this term? Words and
        oshash by their (small, FTS-made) sets; name and folder on the row itself
        (this term's own sets may be large, the rows checked are few). ``plus``: "+"
        keeps SQLite from driving the query from these conditions."""
        checks, params = [], []
        if self.term.words:
            checks.append(
                f"{plus}{column} IN "
                f"(SELECT rowid FROM {SQLITE_WORDS} WHERE {SQLITE_WORDS} MATCH %s)"
            )
            params.append(self.words_match())
        if fragment := self.name_fragment:
            checks.append(f"{ix}.name GLOB %s")
            params.append(f"*{glob_escape(fragment)}*")
        ids = "(SELECT value FROM json_each(%s))"
        if self.folders:
            checks.append(f"{plus}{ix}.folder_id IN {ids}")
            params.append(json.dumps(self.folders))
        if self.boundary:
            checks.append(f"({plus}{ix}.folder_id IN {ids} AND {ix}.name GLOB %s)")
            params += [json.dumps(self.boundary), self.tail_pattern()]
        if self.term.hex_prefix:
            sql, sql_params = SearchBackend.oshash_sql(self.term)
            checks.append(f"{plus}{column} IN ({sql})")
            params += sql_params
        return f"({' OR '.join(checks) or '0'})", params

    def score(self, column: str, ix: str) -> tuple[str, list]:
        """SQL: this term's relevance for the file ``column``, index row ``ix``, computed
        on the row like ``check`` (for all but the first term, or from the drive/type
        index): a hit in title/tags/body is the term in the text, as on PostgreSQL —
        listing this term's words by column could cost more than the whole query."""
        parts, params = [], []
        for column_name in WORD_COLUMNS:
            parts.append(f"(instr({ix}.{column_name}, %s) > 0) * {WEIGHTS[column_name]}")
            params.append(self.term.text)
        if fragment := self.name_fragment:
            parts.append(
                f"CASE WHEN {ix}.name = %s THEN {WEIGHTS['name_exact']} "
                f"WHEN {ix}.name GLOB %s THEN {WEIGHTS['name']} ELSE 0 END"
            )
            params += [fragment, f"*{glob_escape(fragment)}*"]
        if self.folders:
            parts.append(
                f"({ix}.folder_id IN (SELECT value FROM json_each(%s))) * {WEIGHTS['folder']}"
            )
            params.append(json.dumps(self.folders))
        if self.term.hex_prefix:
            sql, sql_params = SearchBackend.oshash_sql(self.term)
            parts.append(f"({column} IN ({sql})) * {WEIGHTS['oshash']}")
            params += sql_params
        return " + ".join(parts) or "0", params


def _on_the_row(
    plans, column: str, *, score: bool, plus: str = ""
) -> tuple[list[str], list, list[str], list]:
    """Each term checked (and, with ``score``, ranked) on the file ``column``'s index row
    ``ix``: (checks, their params, score expressions, their params)."""
    checks, check_params, scores, score_params = [], [], [], []
    for plan in plans:
        check, params = plan.check(column, "ix", plus=plus)
        checks.append(check)
        check_params += params
        if score:
            expression, params = plan.score(column, "ix")
            scores.append(expression)
            score_params += params
    return checks, check_params, scores, score_params


class SQLiteBackend(SearchBackend):
    vendor = "sqlite"
    new_files_unlooked = True
    # ASCII text (as many characters as bytes) folds with SQLite's own lower(); only the
    # rest calls into Python. Empty text (most curator fields at import) is left at once.
    fold_sql = (
        "(CASE WHEN {0} = '' THEN '' WHEN length({0}) = length(CAST({0} AS BLOB)) "
        "THEN lower({0}) ELSE phs_fold({0}) END)"
    )

    def folded_words(self, *parts: str) -> str:
        # Each part folded on its own (the same text: a space composes with nothing), so
        # the parts an import leaves empty cost next to nothing: 11,000 → 2,000
        # instructions per row indexed (callgrind). On PostgreSQL the extra function
        # calls cost more than they save.
        return " || ' ' || ".join(self.fold_sql.format(part) for part in parts)

    def folder_sql(self, pattern_kind: str, text: str) -> tuple[str, list]:
        if pattern_kind == "contains":
            return (
                f"SELECT rowid FROM {SQLITE_FOLDERS} WHERE {SQLITE_FOLDERS} MATCH %s",
                [_quoted(text)],
            )
        # Ends with: GLOB, checked on the (few) folder rows the trigrams leave.
        return (
            f"SELECT rowid FROM {SQLITE_FOLDERS} WHERE location GLOB %s AND location <> ''",
            [f"*{glob_escape(text)}"],
        )

    # A query is planned in two steps. First one statement resolves what is small for
    # every term — the folders its fragment is in (and, with a "/", the folders ending
    # with the part before it) — and how many files each term could match at most. Then
    # the matches are those of the smallest term — each way it can match, scored, in
    # one grouped pass — checked against the other terms on their index rows: a broad
    # term ("rehearsal": 150,000 files) is never listed in full when a narrow one
    # ("shabnam") comes with it. With a drive or type facet, the query starts from
    # those index rows instead when they are fewer.

    def _plan(
        self, query: Query, within: tuple[str, list] | None = None
    ) -> tuple[list[_Plan], int]:
        """The terms, smallest first, and how many files ``within`` keeps (0 without)."""
        plans = [_Plan(term) for term in query.terms]
        parts, params, kept, per_folder = [], [], 0, 0
        # files per folder, on average: a folder match's size, estimated
        parts.append(
            f"SELECT -1, '/', (SELECT COUNT(*) FROM {TABLE}) "
            f"/ MAX(1, (SELECT COUNT(*) FROM {FOLDERS}))"
        )
        if within:
            parts.append(f"SELECT -1, '=', COUNT(*) FROM {TABLE} ix WHERE {within[0]}")
            params += within[1]
        for i, plan in enumerate(plans):
            fragment = plan.term.fragment
            if fragment:
                sql, folder_params = self.folder_sql("contains", fragment)
                parts.append(f"SELECT {i}, 'f', rowid FROM ({sql})")
                params += folder_params
                if "/" in fragment:
                    sql, folder_params = self.folder_sql("ends", fragment.rsplit("/", 1)[0])
                    parts.append(f"SELECT {i}, 'b', rowid FROM ({sql})")
                    params += folder_params
            if plan.term.words:
                parts.append(
                    f"SELECT {i}, '#', COUNT(*) FROM {SQLITE_WORDS} WHERE {SQLITE_WORDS} MATCH %s"
                )
                params.append(plan.words_match())
            if plan.name_fragment:
                parts.append(
                    f"SELECT {i}, 'n', COUNT(*) FROM {SQLITE_NAMES} WHERE {SQLITE_NAMES} MATCH %s"
                )
                params.append(_quoted(plan.name_fragment))
            if plan.term.hex_prefix:
                sql, sql_params = self.oshash_sql(plan.term)
                parts.append(f"SELECT {i}, '#', COUNT(*) FROM ({sql})")
                params += sql_params
        with connection.cursor() as cursor:
            cursor.execute(" UNION ALL ".join(parts), params)
            for i, kind, value in cursor.fetchall():
                plan = plans[i]
                if kind == "=":
                    kept = value
                elif kind == "/":
                    per_folder = value
                elif kind == "f":
                    plan.folders.append(value)
                elif kind == "b":
                    plan.boundary.append(value)
                elif kind == "n":
                    plan.names = value
                    plan.size += value
                else:
                    plan.size += value
        for plan in plans:
            plan.size += (len(plan.folders) + len(plan.boundary)) * per_folder
        return sorted(plans, key=lambda plan: plan.size), kept

    def match_sql(self, query: Query) -> tuple[str, list]:
        sql, params = self.ranked_sql(query, score=False)
        return f"SELECT file_id FROM ({sql}) m", params

    def ranked_sql(
        self,
        query: Query,
        *,
        score: bool = True,
        facets: IndexFacets = NO_FACETS,
    ) -> tuple[str, list]:
        within = facets.condition()
        (first, *rest), kept = self._plan(query, within)
        if within and kept < first.size:
            # From the drive/type index rows, every term checked on the row.
            checks, params, scores, score_params = _on_the_row(
                (first, *rest), "ix.file_id", score=score, plus="+"
            )
            return (
                f"SELECT ix.file_id, {' + '.join(scores) or '0'} AS score FROM {TABLE} ix "
                f"WHERE {' AND '.join([within[0], *checks])}",
                [*score_params, *within[1], *params],
            )
        parts = first.parts(self, weights=score)
        grouped = (
            "SELECT file_id, SUM(weight) AS score FROM ("
            + " UNION ALL ".join(
                f"SELECT file_id, {w} AS weight FROM ({sql})" for sql, w, _ in parts
            )
            + ") GROUP BY file_id"
        )
        params = [p for _, _, part_params in parts for p in part_params]
        if not rest and not within:
            return grouped, params
        checks, check_params, scores, score_params = _on_the_row(rest, "g.file_id", score=score)
        if within:
            checks, check_params = [within[0], *checks], [*within[1], *check_params]
        return (
            f"SELECT g.file_id, {' + '.join(['g.score', *scores])} AS score FROM ({grouped}) g "
            f"JOIN {TABLE} ix ON ix.file_id = g.file_id WHERE {' AND '.join(checks)}",
            [*score_params, *params, *check_params],
        )

    # ------------------------------------------------------------------- indexing

    def prepare(self) -> None:
        connection.ensure_connection()  # registers phs_fold (see register_functions)

    def index_where(
        self, condition: str, params: list, *, folders: tuple[str, list] | None = None
    ) -> int:
        """Old rows out (the delete trigger takes them out of the FTS tables), new rows
        in, then the same ids into the FTS tables — set-based, no per-row trigger."""
        self.prepare()
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {IDS}")
            cursor.execute(
                f"CREATE TEMP TABLE phs_search_ids AS "
                f"SELECT f.{FILE_ENTRY.id} AS id FROM {FILE_ENTRY} f WHERE {condition}",
                params,
            )
            # Old rows out; files newer than every indexed one (an import's new files)
            # have none, and are not looked for.
            cursor.execute(
                f"DELETE FROM {TABLE} WHERE file_id IN (SELECT id FROM {IDS} "
                f"WHERE id <= (SELECT MAX(file_id) FROM {TABLE}))"
            )
            cursor.execute(
                f"INSERT INTO {TABLE} {self.COLUMNS} {self._select_rows()}"
                f"WHERE f.id IN (SELECT id FROM {IDS})"
            )
            written = cursor.rowcount
            self._fill_fts(cursor, f"file_id IN (SELECT id FROM {IDS})")
            folder_condition, folder_params = folders or (
                f"d.{FOLDER.id} IN "
                f"(SELECT folder_id FROM {TABLE} WHERE file_id IN (SELECT id FROM {IDS}))",
                [],
            )
            cursor.execute(
                self._index_folders_sql(folder_condition) + " RETURNING folder_id", folder_params
            )
            new_folders = [row[0] for row in cursor.fetchall()]
            if new_folders:
                # One statement: each one writes (and may merge) an FTS segment.
                cursor.execute(
                    f"INSERT INTO {SQLITE_FOLDERS}(rowid, location) SELECT folder_id, location "
                    f"FROM {FOLDERS} WHERE folder_id IN (SELECT value FROM json_each(%s))",
                    [json.dumps(new_folders)],
                )
            cursor.execute(f"DROP TABLE {IDS}")
            return written

    def index_drive(self, drive_id: int) -> int:
        return self.index_where(
            self._unindexed(), [drive_id], folders=(f"d.{FOLDER.drive} = %s", [drive_id])
        )

    @staticmethod
    def _fill_fts(cursor, condition: str) -> None:
        cursor.execute(
            f"INSERT INTO {SQLITE_WORDS}(rowid, title, body, tags) "
            f"SELECT file_id, title, body, tags FROM {TABLE} WHERE {condition}"
        )
        cursor.execute(
            f"INSERT INTO {SQLITE_NAMES}(rowid, name) "
            f"SELECT file_id, name FROM {TABLE} WHERE {condition}"
        )

    def before_rebuild(self) -> None:
        with connection.cursor() as cursor:
            for sql in SQLITE_DROP_TRIGGERS + SQLITE_DROP_INDEXES:
                cursor.execute(sql)
            cursor.execute(f"DELETE FROM {TABLE}")
            cursor.execute(f"DELETE FROM {FOLDERS}")
            for table in SQLITE_FTS:
                cursor.execute(f"INSERT INTO {table}({table}) VALUES ('delete-all')")

    def after_rebuild(self) -> None:
        with connection.cursor() as cursor:
            for sql in SQLITE_INDEXES:
                cursor.execute(sql)
            for table in SQLITE_FTS:
                cursor.execute(f"INSERT INTO {table}({table}) VALUES ('rebuild')")
            for sql in SQLITE_TRIGGERS:
                cursor.execute(sql)
