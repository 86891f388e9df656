"""PostgreSQL: no btrees on the file index's ``drive_id`` and ``category``; the drive and
type facets are checked on the rows the terms found. Each btree cost about 6% more per
imported file. (SQLite keeps its ``(drive_id, category)`` index: it plans the smallest
set first from counts.)"""

from django.db import migrations

TABLE = "phs_search_fileindex"

FORWARD = [
    "DROP INDEX IF EXISTS search_drive",
    "DROP INDEX IF EXISTS search_category",
]
BACKWARD = [
    f"CREATE INDEX IF NOT EXISTS search_drive ON {TABLE} (drive_id)",
    f"CREATE INDEX IF NOT EXISTS search_category ON {TABLE} (category)",
]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for sql in statements:
                schema_editor.execute(sql, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [("phs_search", "0003_folders")]

    operations = [migrations.RunPython(_run(FORWARD), _run(BACKWARD))]
