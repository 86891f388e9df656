#!/usr/bin/env python
"""What the database alone costs to take in a drive: the floor under ``import_json``.

Run from the repository root, on a catalog that ``catalog_bench.py --steps import``
built (it reads one drive's rows and writes nothing that stays)::

    .venv/bin/python bench/import_floor.py --database sqlite|postgres [--repeat 3]

It copies one drive's files (100,000 in the bench catalog) into a new drive with one
``INSERT … SELECT`` inside the database — no manifest, no parsing, no validation, no
staging, no folders, no search index, no client round trips — and rolls it back. That
is less than any import can do, so its rate bounds every import from above. Then it
repeats the insert without the foreign-key checks, without the secondary indexes, and
into the bare table (each dropped inside the same rolled-back transaction), which says
where the floor comes from.

The issue's target, 40,000 rows/s for a whole import, leaves 2.5 s per 100,000 files
for everything.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
TABLE = "catalog_fileentry"
#: Kept in every variant: the upsert's conflict target and the row's identity.
KEEP = {"catalog_fileentry_pkey", "fileentry_unique_location"}
TARGET_RATE = 40_000


def configure(database: str, workdir: Path) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "phs_site.settings.dev"
    if database == "sqlite":
        os.environ["PHS_VAR_DIR"] = str(workdir.resolve() / "var-sqlite")
        os.environ.pop("DATABASE_URL", None)
    else:
        os.environ["DATABASE_URL"] = "postgres://postgres@127.0.0.1:5432/phs_bench"
    import django

    django.setup()


def secondary_indexes(cursor, vendor: str) -> list[str]:
    if vendor == "postgresql":
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = %s", [TABLE])
    else:
        cursor.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = %s "
            "AND sql IS NOT NULL",
            [TABLE],
        )
    return sorted(name for (name,) in cursor.fetchall() if name not in KEEP)


def foreign_keys(cursor) -> list[str]:
    cursor.execute(
        "SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'f'",
        [TABLE],
    )
    return [name for (name,) in cursor.fetchall()]


def copy_drive(cursor, source: int, target: int) -> int:
    from django.db import connection

    from catalog.models import FileEntry

    columns = [
        f.column for f in FileEntry._meta.concrete_fields if f.column not in ("id", "drive_id")
    ]
    listed = ", ".join(connection.ops.quote_name(c) for c in columns)
    cursor.execute(
        f"INSERT INTO {TABLE} (drive_id, {listed}) SELECT %s, {listed} FROM {TABLE} "
        "WHERE drive_id = %s",
        [target, source],
    )
    return cursor.rowcount


def measure(variant: str, source: int, target: int) -> tuple[float, int]:
    """Seconds to insert one drive's rows in this variant, rolled back afterwards."""
    from django.db import connection, transaction

    vendor = connection.vendor
    if vendor == "sqlite":
        with connection.cursor() as cursor:  # outside a transaction, or it is ignored
            cursor.execute(f"PRAGMA foreign_keys = {'OFF' if variant != 'as is' else 'ON'}")
    with transaction.atomic(), connection.cursor() as cursor:
        if vendor == "postgresql" and variant != "as is":
            for name in foreign_keys(cursor):
                cursor.execute(f"ALTER TABLE {TABLE} DROP CONSTRAINT {name}")
        if variant in ("unique key only", "bare table"):
            for name in secondary_indexes(cursor, vendor):
                cursor.execute(f"DROP INDEX {name}")
        if variant == "bare table":  # PostgreSQL only: SQLite keeps a table's UNIQUE
            cursor.execute(f"ALTER TABLE {TABLE} DROP CONSTRAINT fileentry_unique_location")
        started = time.perf_counter()
        rows = copy_drive(cursor, source, target)
        if vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the checks a commit would run
        seconds = time.perf_counter() - started
        transaction.set_rollback(True)
    with connection.cursor() as cursor:
        if vendor == "sqlite":
            cursor.execute("PRAGMA foreign_keys = ON")
    return seconds, rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--workdir", type=Path, default=REPO / "bench" / "out")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    configure(args.database, args.workdir)

    from django.db import connection

    from catalog.models import Drive, FileEntry

    drives = list(Drive.objects.order_by("id").values_list("id", flat=True))
    if not drives:
        sys.exit("no catalog: run bench/catalog_bench.py --steps generate,import first")
    source = drives[len(drives) // 2]
    target = Drive.objects.create(name="import-floor-scratch").id
    files = FileEntry.objects.count()
    try:
        print(f"{args.database}: {files:,} files in {len(drives)} drives; copying drive {source}")
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(f"VACUUM ANALYZE {TABLE}")
        variants = ["as is", "no foreign keys", "unique key only"]
        if connection.vendor == "postgresql":
            variants.append("bare table")
        print(f"{'variant':<18} {'rows':>8} {'best s':>7} {'median s':>9} {'rows/s':>9}")
        for variant in variants:
            times = []
            for _ in range(args.repeat):
                seconds, rows = measure(variant, source, target)
                times.append(seconds)
            best = min(times)
            print(
                f"{variant:<18} {rows:>8,} {best:>7.2f} {statistics.median(times):>9.2f} "
                f"{rows / best:>9,.0f}"
            )
        print(
            f"target: {TARGET_RATE:,} rows/s for a whole import = "
            f"{100_000 / TARGET_RATE:.1f} s per 100,000 files"
        )
    finally:
        Drive.objects.filter(id=target).delete()


if __name__ == "__main__":
    main()
