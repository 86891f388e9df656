"""Fragments by filename and by folder path; oshash from the catalog; SQLite rowid keys.

The index table loses ``location`` (``path/filename``) and ``oshash`` and gains
``folder_id``, ``drive_id`` and ``category``; a folder index holds each folder's folded
path once. PostgreSQL indexes the words as an expression (no stored ``tsvector``). On
SQLite the file index's key becomes the rowid (``INTEGER PRIMARY KEY``) and the words'
FTS5 table keeps no positions (``detail=column``). The index is derived data: this
migration empties it and fills it again from the catalog (about a minute per million
files). The SQL is copied here (migrations are history); ``search.backends.sql`` holds
the live copy.
"""

import unicodedata

import django.db.models.deletion
from django.db import migrations, models

import search.models

TABLE = "phs_search_fileindex"
FOLDERS = "phs_search_folderindex"

# ------------------------------------------------------------------ 0002's structures
PG_OLD_DROP = [
    "DROP INDEX IF EXISTS search_location_trgm",
    "DROP INDEX IF EXISTS search_words",
    f"ALTER TABLE {TABLE} DROP COLUMN IF EXISTS words",
    f"TRUNCATE {TABLE}",
]
PG_OLD_CREATE = [
    f"ALTER TABLE {TABLE} ADD COLUMN words tsvector GENERATED ALWAYS AS ("
    "setweight(to_tsvector('simple'::regconfig, title), 'A') || "
    "setweight(to_tsvector('simple'::regconfig, tags), 'B') || "
    "setweight(to_tsvector('simple'::regconfig, body), 'C')) STORED",
    f"CREATE INDEX IF NOT EXISTS search_words ON {TABLE} USING gin (words)",
    f"CREATE INDEX IF NOT EXISTS search_location_trgm ON {TABLE} "
    "USING gin (location gin_trgm_ops)",
]
SQLITE_OLD_DROP = [
    "DROP TRIGGER IF EXISTS phs_search_au",
    "DROP TRIGGER IF EXISTS phs_search_ad",
    "DROP TRIGGER IF EXISTS phs_search_ai",
    "DROP TABLE IF EXISTS phs_search_names",
    "DROP TABLE IF EXISTS phs_search_words",
    f"DELETE FROM {TABLE}",
]
SQLITE_OLD_CREATE = [
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

# ------------------------------------------------------------------ 0003's structures
PG_FOLD = "normalize(lower({}), NFC)"
SQLITE_FOLD = (
    "(CASE WHEN length({0}) = length(CAST({0} AS BLOB)) THEN lower({0}) ELSE phs_fold({0}) END)"
)


def fill(fold: str) -> list[str]:
    """Index every folder and file (the catalog's current text)."""
    fold = fold.format
    return [
        f"INSERT INTO {FOLDERS} (folder_id, location) SELECT d.id, {fold('d.path')} "
        "FROM catalog_folder d",
        f"INSERT INTO {TABLE} "
        "(file_id, folder_id, drive_id, category, name, title, body, tags, imported_at) "
        f"SELECT f.id, f.folder_id, f.drive_id, f.category, {fold('f.filename')}, "
        f"{fold('f.title')}, "
        f"{fold("f.description || ' ' || f.notes")}, "
        f"{fold("COALESCE(g.name, '') || ' ' || f.camera")}, f.imported_at "
        "FROM catalog_fileentry f LEFT JOIN catalog_projectgroup g ON g.id = f.project_group_id "
        "ORDER BY f.id",
    ]


PG_NEW_CREATE = [
    *fill(PG_FOLD),
    f"CREATE INDEX IF NOT EXISTS search_words ON {TABLE} USING gin "
    "((to_tsvector('simple'::regconfig, title || ' ' || tags || ' ' || body)))",
    f"CREATE INDEX IF NOT EXISTS search_name_trgm ON {TABLE} USING gin (name gin_trgm_ops)",
    f"CREATE INDEX IF NOT EXISTS search_folder ON {TABLE} (folder_id)",
    f"CREATE INDEX IF NOT EXISTS search_drive ON {TABLE} (drive_id)",
    f"CREATE INDEX IF NOT EXISTS search_category ON {TABLE} (category)",
    f"CREATE INDEX IF NOT EXISTS search_folder_trgm ON {FOLDERS} "
    "USING gin (location gin_trgm_ops)",
    f"ANALYZE {TABLE}",
    f"ANALYZE {FOLDERS}",
]
PG_NEW_DROP = [
    "DROP INDEX IF EXISTS search_folder_trgm",
    "DROP INDEX IF EXISTS search_category",
    "DROP INDEX IF EXISTS search_drive",
    "DROP INDEX IF EXISTS search_folder",
    "DROP INDEX IF EXISTS search_name_trgm",
    "DROP INDEX IF EXISTS search_words",
    f"TRUNCATE {TABLE}, {FOLDERS}",
]
SQLITE_NEW_CREATE = [
    *fill(SQLITE_FOLD),
    "CREATE VIRTUAL TABLE IF NOT EXISTS phs_search_words USING fts5(title, body, tags, "
    f"content='{TABLE}', content_rowid='file_id', "
    # Letters, digits and combining marks are word characters (as ``search.text.words``
    # splits): a Devanagari word is one token, never a phrase.
    "tokenize=\"unicode61 remove_diacritics 0 categories 'L* N* Co M*'\", "
    "detail=column, columnsize=0)",
    "CREATE VIRTUAL TABLE IF NOT EXISTS phs_search_names USING fts5(name, "
    f"content='{TABLE}', content_rowid='file_id', tokenize='trigram', "
    "columnsize=0)",
    "CREATE VIRTUAL TABLE IF NOT EXISTS phs_search_folders USING fts5(location, "
    f"content='{FOLDERS}', content_rowid='folder_id', tokenize='trigram', "
    "columnsize=0)",
    "INSERT INTO phs_search_words(phs_search_words) VALUES ('rebuild')",
    "INSERT INTO phs_search_names(phs_search_names) VALUES ('rebuild')",
    "INSERT INTO phs_search_folders(phs_search_folders) VALUES ('rebuild')",
    f"CREATE INDEX IF NOT EXISTS search_folder ON {TABLE} (folder_id)",
    f"CREATE INDEX IF NOT EXISTS search_drive ON {TABLE} (drive_id, category)",
    f"""CREATE TRIGGER IF NOT EXISTS phs_search_ad AFTER DELETE ON {TABLE} BEGIN
  INSERT INTO phs_search_words(phs_search_words, rowid, title, body, tags)
    VALUES ('delete', old.file_id, old.title, old.body, old.tags);
  INSERT INTO phs_search_names(phs_search_names, rowid, name) VALUES ('delete', old.file_id, old.name);
END""",
    f"""CREATE TRIGGER IF NOT EXISTS phs_search_au AFTER UPDATE ON {TABLE} BEGIN
  INSERT INTO phs_search_words(phs_search_words, rowid, title, body, tags)
    VALUES ('delete', old.file_id, old.title, old.body, old.tags);
  INSERT INTO phs_search_names(phs_search_names, rowid, name) VALUES ('delete', old.file_id, old.name);
  INSERT INTO phs_search_words(rowid, title, body, tags)
    VALUES (new.file_id, new.title, new.body, new.tags);
  INSERT INTO phs_search_names(rowid, name) VALUES (new.file_id, new.name);
END""",
    f"""CREATE TRIGGER IF NOT EXISTS phs_search_folder_ad AFTER DELETE ON {FOLDERS} BEGIN
  INSERT INTO phs_search_folders(phs_search_folders, rowid, location)
    VALUES ('delete', old.folder_id, old.location);
END""",
]
SQLITE_NEW_DROP = [
    "DROP TRIGGER IF EXISTS phs_search_folder_ad",
    "DROP TRIGGER IF EXISTS phs_search_au",
    "DROP TRIGGER IF EXISTS phs_search_ad",
    "DROP INDEX IF EXISTS search_drive",
    "DROP INDEX IF EXISTS search_folder",
    "DROP TABLE IF EXISTS phs_search_folders",
    "DROP TABLE IF EXISTS phs_search_names",
    "DROP TABLE IF EXISTS phs_search_words",
    f"DELETE FROM {TABLE}",
    f"DELETE FROM {FOLDERS}",
]


def _fold(text):
    return unicodedata.normalize("NFC", text.lower()) if text else ""


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        connection = schema_editor.connection
        if connection.vendor == "sqlite":
            connection.ensure_connection()
            connection.connection.create_function("phs_fold", 1, _fold, deterministic=True)
        for sql in statements_by_vendor.get(connection.vendor, []):
            schema_editor.execute(sql, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0004_leaner_indexes"),
        ("phs_search", "0002_engine"),
    ]

    operations = [
        migrations.RunPython(
            _run({"postgresql": PG_OLD_DROP, "sqlite": SQLITE_OLD_DROP}),
            _run({"postgresql": PG_OLD_CREATE, "sqlite": SQLITE_OLD_CREATE}),
        ),
        migrations.CreateModel(
            name="FolderIndex",
            fields=[
                (
                    "folder",
                    search.models.RowIdOneToOneField(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="search_index",
                        serialize=False,
                        to="catalog.folder",
                    ),
                ),
                ("location", models.TextField(blank=True)),
            ],
        ),
        migrations.RemoveIndex(model_name="fileindex", name="search_oshash"),
        migrations.AddField(
            model_name="fileindex",
            name="folder_id",
            field=models.BigIntegerField(default=0),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="fileindex",
            name="drive_id",
            field=models.BigIntegerField(default=0),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="fileindex",
            name="category",
            field=models.CharField(default="", max_length=16),
            preserve_default=False,
        ),
        migrations.AlterField(
            model_name="fileindex",
            name="file",
            field=search.models.RowIdOneToOneField(
                db_constraint=False,
                on_delete=django.db.models.deletion.CASCADE,
                primary_key=True,
                related_name="search_index",
                serialize=False,
                to="catalog.fileentry",
            ),
        ),
        migrations.RemoveField(model_name="fileindex", name="location"),
        migrations.RemoveField(model_name="fileindex", name="oshash"),
        migrations.RunPython(
            _run({"postgresql": PG_NEW_CREATE, "sqlite": SQLITE_NEW_CREATE}),
            _run({"postgresql": PG_NEW_DROP, "sqlite": SQLITE_NEW_DROP}),
        ),
    ]
