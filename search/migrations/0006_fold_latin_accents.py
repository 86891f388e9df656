"""Accents off Latin letters in the index: ``cafe`` finds ``Café`` and back.

``search.text.fold`` now also drops combining accents after Latin letters and writes
``ø ł đ ħ ı æ œ ß`` as ``o l d h i ae oe ss``; other scripts fold as before. Rows
whose text is all ASCII are unchanged; the others are re-folded in place (folding the
old folded text gives what folding the catalog's text gives), on SQLite through the
FTS tables' update trigger (files) and by hand (folders, which have none). A few
seconds per million files: only non-ASCII rows are read and written.

Going back leaves the index folded the new way: run ``manage.py rebuild_search_index``
after downgrading. The fold is copied here (migrations are history); the live copies
are ``search.text.fold`` and ``search.backends.postgres.PostgresBackend.fold_sql``.
"""

import re
import unicodedata

from django.db import migrations

TABLE = "phs_search_fileindex"
FOLDERS = "phs_search_folderindex"
SQLITE_FOLDERS = "phs_search_folders"

_ACCENTS = re.compile("([a-z\u00c0-\u024f\u1e00-\u1eff])[\u0300-\u036f]+")
_LETTERS = str.maketrans({"ø": "o", "ł": "l", "đ": "d", "ħ": "h", "ı": "i"})


def _fold(text):
    if not text:
        return ""
    text = text.lower()
    if text.isascii():
        return text
    text = _ACCENTS.sub(r"\1", unicodedata.normalize("NFD", text))
    for letters, plain in (("æ", "ae"), ("œ", "oe"), ("ß", "ss")):
        text = text.replace(letters, plain)
    return unicodedata.normalize("NFC", text.translate(_LETTERS))


PG_FOLD = (
    "normalize(translate(replace(replace(replace(regexp_replace(normalize(lower({0}), NFD), "
    r"'([a-z\u00c0-\u024f\u1e00-\u1eff])[\u0300-\u036f]+', '\1', 'g'), 'æ', 'ae'), "
    "'œ', 'oe'), 'ß', 'ss'), 'øłđħı', 'oldhi'), NFC)"
)
FILE_TEXT = "name || title || body || tags"


def refold(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor == "postgresql":
        fold, non_ascii = PG_FOLD.format, "octet_length({0}) <> char_length({0})".format
    elif connection.vendor == "sqlite":
        connection.ensure_connection()
        # Under the live name: migration 0003 registered its own (older) ``phs_fold`` on
        # this connection, which would otherwise fold what this process indexes next.
        connection.connection.create_function("phs_fold", 1, _fold, deterministic=True)
        fold = "phs_fold({0})".format
        non_ascii = "length({0}) <> length(CAST({0} AS BLOB))".format
    else:
        return
    columns = ", ".join(f"{column} = {fold(column)}" for column in ("name", "title", "body", "tags"))
    with connection.cursor() as cursor:
        # Files: on SQLite the update trigger moves the FTS words and names along.
        cursor.execute(f"UPDATE {TABLE} SET {columns} WHERE {non_ascii(FILE_TEXT)}")
        changed_folders = f"SELECT folder_id FROM {FOLDERS} WHERE {non_ascii('location')}"
        if connection.vendor == "sqlite":
            cursor.execute(
                f"INSERT INTO {SQLITE_FOLDERS}({SQLITE_FOLDERS}, rowid, location) "
                f"SELECT 'delete', folder_id, location FROM {FOLDERS} "
                f"WHERE folder_id IN ({changed_folders})"
            )
            cursor.execute("CREATE TEMPORARY TABLE phs_refolded (folder_id integer PRIMARY KEY)")
            cursor.execute(f"INSERT INTO phs_refolded {changed_folders}")
        cursor.execute(f"UPDATE {FOLDERS} SET location = {fold('location')} WHERE {non_ascii('location')}")
        if connection.vendor == "sqlite":
            cursor.execute(
                f"INSERT INTO {SQLITE_FOLDERS}(rowid, location) SELECT folder_id, location "
                f"FROM {FOLDERS} WHERE folder_id IN (SELECT folder_id FROM phs_refolded)"
            )
            cursor.execute("DROP TABLE phs_refolded")


class Migration(migrations.Migration):
    dependencies = [("phs_search", "0005_words_facet_tokens")]

    operations = [migrations.RunPython(refold, migrations.RunPython.noop)]
