"""PostgreSQL: one ``(drive_id, category)`` btree on the file index instead of one per
column (SQLite already has the pair). The SQL is copied here (migrations are history);
``search.backends.sql`` holds the live copy."""

from django.db import migrations

TABLE = "phs_search_fileindex"

FORWARD = [
    f"CREATE INDEX IF NOT EXISTS search_drive_category ON {TABLE} (drive_id, category)",
    "DROP INDEX IF EXISTS search_drive",
    "DROP INDEX IF EXISTS search_category",
]
BACKWARD = [
    f"CREATE INDEX IF NOT EXISTS search_drive ON {TABLE} (drive_id)",
    f"CREATE INDEX IF NOT EXISTS search_category ON {TABLE} (category)",
    "DROP INDEX IF EXISTS search_drive_category",
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
