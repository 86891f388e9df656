"""The database-specific parts of the index, as SQL: used by migration 0003 and by
``rebuild`` (which drops and recreates them around a bulk load). Keep them in step.

Two tables (``search.models``): one row per file (folded filename, curator text and
its folder's id) and one row per folder (folded path). Fragments of ``path/filename``
are looked up in the filename trigrams and in the folder-path trigrams; a folder's
path is indexed once, not once per file in it (a path is ~5× longer than a name, so
this is most of the cost of indexing an import). See ``base.SearchBackend``.
"""

# Set-based SQL: only module constants are interpolated; every value is a parameter.
# ruff: noqa: S608

TABLE = "phs_search_fileindex"
FOLDERS = "phs_search_folderindex"

# ---------------------------------------------------------------- PostgreSQL
#: The characters PostgreSQL's text parser joins words with into one token (every ASCII
#: punctuation character tried): ``rehearsal/stage``, ``v1.2`` or ``take-2`` would be
#: one lexeme (or ``-2``), ``~a`` a file name, ``<b>`` a tag and ``&amp;`` an entity,
#: dropped. Each becomes a space, so the words are those ``search.text.words`` (and
#: SQLite's FTS5) see. Only these: ``translate`` costs per character of this set
#: (all 32 punctuation characters: ~0.5 s more per 100,000 files indexed; these: 0.08).
WORD_JOINERS = "+-./~<&"
#: The words of a file index row ``ix``: title, project group/camera, description/notes.
#: Indexed as an expression (GIN), not stored: the table stays narrow (about 100 bytes a
#: row), and a broad word visits most of its pages. One ``to_tsvector`` (no weights:
#: ranking reads the columns) — computing it is a third of indexing an import.
#: Plus one token for the row's drive and one for its type (``FACET_TOKENS``): a query
#: with a drive or type chosen intersects its words with them inside the index, instead
#: of reading every match's row on every drive to check its drive.
#: Queries must spell the expression exactly so (``PG_WORDS.format("ix.")``).
PG_WORDS = (
    "(to_tsvector('simple'::regconfig, translate("
    "{0}title || ' ' || {0}tags || ' ' || {0}body, "
    f"'{WORD_JOINERS}', '{' ' * len(WORD_JOINERS)}')) || "
    "array_to_tsvector(ARRAY['~d' || {0}drive_id::text, '~c' || {0}category::text]))"
)
#: The facet tokens as ``tsquery`` lexemes. No text can spell them (``~`` is a space to
#: the words), and the drive and type are checked on the row all the same.
FACET_TOKENS = {"drive_id": "'~d{}'", "category": "'~c{}'"}
#: Dropped before a rebuild's bulk load and created after it (faster than row by row).
PG_INDEXES = [
    f"CREATE INDEX IF NOT EXISTS search_words ON {TABLE} USING gin (({PG_WORDS.format('')}))",
    f"CREATE INDEX IF NOT EXISTS search_name_trgm ON {TABLE} USING gin (name gin_trgm_ops)",
    f"CREATE INDEX IF NOT EXISTS search_folder ON {TABLE} (folder_id)",
    f"CREATE INDEX IF NOT EXISTS search_folder_trgm ON {FOLDERS} USING gin (location gin_trgm_ops)",
]
PG_DROP_INDEXES = [
    "DROP INDEX IF EXISTS search_words",
    "DROP INDEX IF EXISTS search_name_trgm",
    "DROP INDEX IF EXISTS search_folder",
    "DROP INDEX IF EXISTS search_folder_trgm",
]
#: The GIN indexes an import's rows are first appended to (their pending lists), then
#: merged into in one pass at the end of the import (``gin_clean_pending_list``).
PG_GIN_INDEXES = ["search_words", "search_name_trgm", "search_folder_trgm"]

# -------------------------------------------------------------------- SQLite
SQLITE_WORDS = "phs_search_words"
SQLITE_NAMES = "phs_search_names"
SQLITE_FOLDERS = "phs_search_folders"
# External-content FTS5 tables. Words: matched as prefixes, ANDed, never as phrases, so
# no positions (``detail=column``: which column a word is in, for ranking). Trigrams:
# with positions, so that a fragment (an FTS5 string: a phrase of trigrams) is found
# from the index alone — without them every candidate's text is read back to check it
# (a quarter of a second for "img" at 1M files), for a few percent less to write.
# ``columnsize=0``: no per-row size table (no BM25 ranking is used).
SQLITE_TABLES = [
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {SQLITE_WORDS} USING fts5(title, body, tags, "
    f"content='{TABLE}', content_rowid='file_id', "
    # Letters, digits and combining marks are word characters (as ``search.text.words``
    # splits): a Devanagari word is one token, never a phrase.
    "tokenize=\"unicode61 remove_diacritics 0 categories 'L* N* Co M*'\", "
    "detail=column, columnsize=0)",
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {SQLITE_NAMES} USING fts5(name, "
    f"content='{TABLE}', content_rowid='file_id', tokenize='trigram', "
    "columnsize=0)",
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {SQLITE_FOLDERS} USING fts5(location, "
    f"content='{FOLDERS}', content_rowid='folder_id', tokenize='trigram', "
    "columnsize=0)",
]
SQLITE_FTS = [SQLITE_WORDS, SQLITE_NAMES, SQLITE_FOLDERS]
SQLITE_DROP_TABLES = [f"DROP TABLE IF EXISTS {name}" for name in SQLITE_FTS]
SQLITE_INDEXES = [
    f"CREATE INDEX IF NOT EXISTS search_folder ON {TABLE} (folder_id)",
    f"CREATE INDEX IF NOT EXISTS search_drive ON {TABLE} (drive_id, category)",
]
SQLITE_DROP_INDEXES = ["DROP INDEX IF EXISTS search_folder", "DROP INDEX IF EXISTS search_drive"]
# The FTS tables follow their content tables' deletes and updates through triggers,
# whoever makes them (cascades, test flushes). Inserts come only from
# ``search.indexing``, which fills the FTS tables itself, set-based (a trigger per
# inserted row costs three times as much at import size).
SQLITE_TRIGGERS = [
    f"""CREATE TRIGGER IF NOT EXISTS phs_search_ad AFTER DELETE ON {TABLE} BEGIN
  INSERT INTO {SQLITE_WORDS}({SQLITE_WORDS}, rowid, title, body, tags)
    VALUES ('delete', old.file_id, old.title, old.body, old.tags);
  INSERT INTO {SQLITE_NAMES}({SQLITE_NAMES}, rowid, name) VALUES ('delete', old.file_id, old.name);
END""",
    f"""CREATE TRIGGER IF NOT EXISTS phs_search_au AFTER UPDATE ON {TABLE} BEGIN
  INSERT INTO {SQLITE_WORDS}({SQLITE_WORDS}, rowid, title, body, tags)
    VALUES ('delete', old.file_id, old.title, old.body, old.tags);
  INSERT INTO {SQLITE_NAMES}({SQLITE_NAMES}, rowid, name) VALUES ('delete', old.file_id, old.name);
  INSERT INTO {SQLITE_WORDS}(rowid, title, body, tags)
    VALUES (new.file_id, new.title, new.body, new.tags);
  INSERT INTO {SQLITE_NAMES}(rowid, name) VALUES (new.file_id, new.name);
END""",
    f"""CREATE TRIGGER IF NOT EXISTS phs_search_folder_ad AFTER DELETE ON {FOLDERS} BEGIN
  INSERT INTO {SQLITE_FOLDERS}({SQLITE_FOLDERS}, rowid, location)
    VALUES ('delete', old.folder_id, old.location);
END""",
]
SQLITE_DROP_TRIGGERS = [
    "DROP TRIGGER IF EXISTS phs_search_ad",
    "DROP TRIGGER IF EXISTS phs_search_au",
    "DROP TRIGGER IF EXISTS phs_search_folder_ad",
]
