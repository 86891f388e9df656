"""The database-specific parts of the index, as SQL: used by migration 0002 and by
``rebuild`` (which drops and recreates them around a bulk load). Keep them in step."""

# Set-based SQL: only module constants are interpolated; every value is a parameter.
# ruff: noqa: S608

TABLE = "phs_search_fileindex"

# ---------------------------------------------------------------- PostgreSQL
PG_WORDS_COLUMN = (
    f"ALTER TABLE {TABLE} ADD COLUMN words tsvector GENERATED ALWAYS AS ("
    "setweight(to_tsvector('simple'::regconfig, title), 'A') || "
    "setweight(to_tsvector('simple'::regconfig, tags), 'B') || "
    "setweight(to_tsvector('simple'::regconfig, body), 'C')) STORED"
)
PG_INDEXES = [
    f"CREATE INDEX IF NOT EXISTS search_words ON {TABLE} USING gin (words)",
    f"CREATE INDEX IF NOT EXISTS search_location_trgm ON {TABLE} USING gin (location gin_trgm_ops)",
]
PG_DROP_INDEXES = [
    "DROP INDEX IF EXISTS search_words",
    "DROP INDEX IF EXISTS search_location_trgm",
]

# -------------------------------------------------------------------- SQLite
SQLITE_WORDS = "phs_search_words"
SQLITE_NAMES = "phs_search_names"
SQLITE_TABLES = [
    f"CREATE VIRTUAL TABLE {SQLITE_WORDS} USING fts5(title, body, tags, "
    f"content='{TABLE}', content_rowid='file_id', "
    "tokenize='unicode61 remove_diacritics 0')",
    f"CREATE VIRTUAL TABLE {SQLITE_NAMES} USING fts5(location, "
    f"content='{TABLE}', content_rowid='file_id', tokenize='trigram')",
]
SQLITE_DROP_TABLES = [
    f"DROP TABLE IF EXISTS {SQLITE_WORDS}",
    f"DROP TABLE IF EXISTS {SQLITE_NAMES}",
]
# The external-content pattern from the FTS5 documentation: the FTS tables follow the
# content table through triggers, whoever writes it (indexing, cascades, test flushes).
SQLITE_TRIGGERS = [
    f"""CREATE TRIGGER phs_search_ai AFTER INSERT ON {TABLE} BEGIN
  INSERT INTO {SQLITE_WORDS}(rowid, title, body, tags)
    VALUES (new.file_id, new.title, new.body, new.tags);
  INSERT INTO {SQLITE_NAMES}(rowid, location) VALUES (new.file_id, new.location);
END""",
    f"""CREATE TRIGGER phs_search_ad AFTER DELETE ON {TABLE} BEGIN
  INSERT INTO {SQLITE_WORDS}({SQLITE_WORDS}, rowid, title, body, tags)
    VALUES ('delete', old.file_id, old.title, old.body, old.tags);
  INSERT INTO {SQLITE_NAMES}({SQLITE_NAMES}, rowid, location)
    VALUES ('delete', old.file_id, old.location);
END""",
    f"""CREATE TRIGGER phs_search_au AFTER UPDATE ON {TABLE} BEGIN
  INSERT INTO {SQLITE_WORDS}({SQLITE_WORDS}, rowid, title, body, tags)
    VALUES ('delete', old.file_id, old.title, old.body, old.tags);
  INSERT INTO {SQLITE_NAMES}({SQLITE_NAMES}, rowid, location)
    VALUES ('delete', old.file_id, old.location);
  INSERT INTO {SQLITE_WORDS}(rowid, title, body, tags)
    VALUES (new.file_id, new.title, new.body, new.tags);
  INSERT INTO {SQLITE_NAMES}(rowid, location) VALUES (new.file_id, new.location);
END""",
]
SQLITE_DROP_TRIGGERS = [
    "DROP TRIGGER IF EXISTS phs_search_ai",
    "DROP TRIGGER IF EXISTS phs_search_ad",
    "DROP TRIGGER IF EXISTS phs_search_au",
]
