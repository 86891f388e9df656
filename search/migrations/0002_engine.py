"""Each database's matching structures on the index table (see search/backends/).

PostgreSQL: the pg_trgm extension, a generated ``tsvector`` column with a GIN index,
and a trigram GIN index on ``location``. SQLite: two external-content FTS5 tables
(words; trigrams) and the triggers that keep them in step. The SQL is copied here
(migrations are history); ``search.backends.sql`` holds the live copy.
"""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

TABLE = "phs_search_fileindex"

PG_FORWARD = [
    f"ALTER TABLE {TABLE} ADD COLUMN words tsvector GENERATED ALWAYS AS ("
    "setweight(to_tsvector('simple'::regconfig, title), 'A') || "
    "setweight(to_tsvector('simple'::regconfig, tags), 'B') || "
    "setweight(to_tsvector('simple'::regconfig, body), 'C')) STORED",
    f"CREATE INDEX IF NOT EXISTS search_words ON {TABLE} USING gin (words)",
    f"CREATE INDEX IF NOT EXISTS search_location_trgm ON {TABLE} "
    "USING gin (location gin_trgm_ops)",
]
PG_BACKWARD = [
    "DROP INDEX IF EXISTS search_location_trgm",
    "DROP INDEX IF EXISTS search_words",
    f"ALTER TABLE {TABLE} DROP COLUMN IF EXISTS words",
]

SQLITE_FORWARD = [
    "CREATE VIRTUAL TABLE phs_search_words USING fts5(title, body, tags, "
    f"content='{TABLE}', content_rowid='file_id', "
    "tokenize='unicode61 remove_diacritics 0')",
    "CREATE VIRTUAL TABLE phs_search_names USING fts5(location, "
    f"content='{TABLE}', content_rowid='file_id', tokenize='trigram')",
    f"""CREATE TRIGGER phs_search_ai AFTER INSERT ON {TABLE} BEGIN
  INSERT INTO phs_search_words(rowid, title, body, tags)
    VALUES (new.file_id, new.title, new.body, new.tags);
  INSERT INTO phs_search_names(rowid, location) VALUES (new.file_id, new.location);
END""",
    f"""CREATE TRIGGER phs_search_ad AFTER DELETE ON {TABLE} BEGIN
  INSERT INTO phs_search_words(phs_search_words, rowid, title, body, tags)
    VALUES ('delete', old.file_id, old.title, old.body, old.tags);
  INSERT INTO phs_search_names(phs_search_names, rowid, location)
    VALUES ('delete', old.file_id, old.location);
END""",
    f"""CREATE TRIGGER phs_search_au AFTER UPDATE ON {TABLE} BEGIN
  INSERT INTO phs_search_words(phs_search_words, rowid, title, body, tags)
    VALUES ('delete', old.file_id, old.title, old.body, old.tags);
  INSERT INTO phs_search_names(phs_search_names, rowid, location)
    VALUES ('delete', old.file_id, old.location);
  INSERT INTO phs_search_words(rowid, title, body, tags)
    VALUES (new.file_id, new.title, new.body, new.tags);
  INSERT INTO phs_search_names(rowid, location) VALUES (new.file_id, new.location);
END""",
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS phs_search_au",
    "DROP TRIGGER IF EXISTS phs_search_ad",
    "DROP TRIGGER IF EXISTS phs_search_ai",
    "DROP TABLE IF EXISTS phs_search_names",
    "DROP TABLE IF EXISTS phs_search_words",
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for sql in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("phs_search", "0001_index")]

    operations = [
        # A no-op on other databases (Django checks the vendor).
        TrigramExtension(),
        migrations.RunPython(
            _run({"postgresql": PG_FORWARD, "sqlite": SQLITE_FORWARD}),
            _run({"postgresql": PG_BACKWARD, "sqlite": SQLITE_BACKWARD}),
        ),
    ]
