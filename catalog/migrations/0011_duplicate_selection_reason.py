"""What decided each duplicate group's primary, and who chose it by hand, when.

Existing groups get their reason computed here, the way ``update_duplicates`` now
records it (the SQL is copied: migrations are history; the live copy is
``catalog.services.duplicates.record_reasons``): hand-made choices are ``manual`` (who
and when were not recorded before), automatic ones the first step of their method's
order at which the primary comes before its runner-up.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


GROUPS, FILES, DRIVES = "catalog_duplicategroup", "catalog_fileentry", "catalog_drive"
ORDER = {
    "auto_largest": "COALESCE(f.size, -1) DESC, d.name, f.path, f.filename, f.id",
    "auto_shortest_path": "LENGTH(f.path) + LENGTH(f.filename), d.name, f.path, f.filename, f.id",
}
FIRST_STEP = {
    "auto_largest": ("COALESCE(p.size, -1)", "COALESCE(r.size, -1)", ">", "<", "largest"),
    "auto_shortest_path": (
        "LENGTH(p.path) + LENGTH(p.filename)",
        "LENGTH(r.path) + LENGTH(r.filename)",
        "<",
        ">",
        "shortest_path",
    ),
}


def record_reasons(apps, schema_editor):
    execute = schema_editor.execute
    execute(f"UPDATE {GROUPS} SET selection_reason = 'manual' WHERE selection_method = 'manual'")
    for method, (mine, theirs, wins, loses, first) in FIRST_STEP.items():
        runner_up = (
            f"SELECT f.id FROM {FILES} f JOIN {DRIVES} d ON d.id = f.drive_id "
            "WHERE f.duplicate_group_id = g.id AND f.id <> g.primary_id "
            f"ORDER BY {ORDER[method]} LIMIT 1"
        )
        reason = (
            f"CASE WHEN r.id IS NULL OR {mine} {wins} {theirs} THEN '{first}' "
            f"WHEN {mine} {loses} {theirs} THEN 'kept' "
            "WHEN pd.name < rd.name THEN 'drive' WHEN pd.name > rd.name THEN 'kept' "
            "WHEN p.path < r.path THEN 'path' WHEN p.path > r.path THEN 'kept' "
            "WHEN p.filename < r.filename THEN 'filename' ELSE 'kept' END"
        )
        execute(
            f"UPDATE {GROUPS} SET selection_reason = s.reason FROM (SELECT t.gid, {reason} "
            f"AS reason FROM (SELECT g.id AS gid, g.primary_id AS pid, ({runner_up}) AS rid "
            f"FROM {GROUPS} g WHERE g.selection_method = %s AND g.primary_id IS NOT NULL) t "
            f"JOIN {FILES} p ON p.id = t.pid JOIN {DRIVES} pd ON pd.id = p.drive_id "
            f"LEFT JOIN {FILES} r ON r.id = t.rid LEFT JOIN {DRIVES} rd ON rd.id = r.drive_id) s "
            f"WHERE {GROUPS}.id = s.gid",
            params=[method],
        )


class Migration(migrations.Migration):

    dependencies = [
        ('catalog', '0010_previews'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='duplicategroup',
            name='selected_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='duplicategroup',
            name='selected_by',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='duplicategroup',
            name='selection_reason',
            field=models.CharField(blank=True, choices=[('largest', 'the largest copy'), ('shortest_path', 'the shortest path'), ('drive', 'first by drive name'), ('path', 'first by folder path'), ('filename', 'first by file name'), ('kept', 'kept from an earlier run: a copy added since would come first'), ('manual', 'chosen by hand')], db_default='', default='', max_length=16),
        ),
        migrations.RunPython(record_reasons, migrations.RunPython.noop),
    ]
