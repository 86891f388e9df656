"""PostgreSQL: the words index changes in two ways, and is rebuilt (a few seconds per
million files).

- The characters PostgreSQL's parser joins words with (``+ - . / ~ < &``) are spaces
  to it, as to ``search.text.words`` and SQLite's FTS5: it kept ``rehearsal/stage`` or
  ``v1.2`` as one lexeme, so a search for ``stage`` missed a title saying
  ``Rehearsal/Stage``.
- It holds a token for each row's drive (``~d<id>``) and type (``~c<category>``), so
  a query with a drive or type chosen intersects them inside the index and reads only
  those drives' rows.

The SQL is copied here (migrations are history); ``search.backends.sql`` holds the
live copy.
"""

from django.db import migrations

TABLE = "phs_search_fileindex"
WORDS = "to_tsvector('simple'::regconfig, title || ' ' || tags || ' ' || body)"
WORDS_AND_FACETS = (
    "(to_tsvector('simple'::regconfig, translate(title || ' ' || tags || ' ' || body, "
    "'+-./~<&', '       ')) || "
    "array_to_tsvector(ARRAY['~d' || drive_id::text, '~c' || category::text]))"
)

FORWARD = [
    "DROP INDEX IF EXISTS search_words",
    f"CREATE INDEX search_words ON {TABLE} USING gin (({WORDS_AND_FACETS}))",
]
BACKWARD = [
    "DROP INDEX IF EXISTS search_words",
    f"CREATE INDEX search_words ON {TABLE} USING gin (({WORDS}))",
]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for sql in statements:
                schema_editor.execute(sql, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [("phs_search", "0004_drop_drive_category_btrees")]

    operations = [migrations.RunPython(_run(FORWARD), _run(BACKWARD))]
