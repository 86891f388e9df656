"""Importing a drive manifest into the catalog: one transaction, set-based, idempotent.

The manifest is streamed into a temporary staging table (COPY on PostgreSQL,
``executemany`` on SQLite) while every entry is validated. If any entry is bad and
``skip_invalid`` is off, the transaction is rolled back and nothing has changed.
Otherwise the staging rows are merged with one ``INSERT … ON CONFLICT`` keyed by
(drive, path, filename): new files are inserted; existing ones are left alone, or,
with ``update``, get their scanner fields refreshed. Curator fields are never written.
"""

import logging
from array import array
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC
from pathlib import Path
from typing import IO

import numpy as np
from django.db import connection, transaction
from django.utils import timezone

from catalog.manifest import (
    EntryProblem,
    ManifestEntry,
    ManifestFormatError,
    ManifestReader,
    ProblemLog,
    validate_drive_name,
)
from catalog.models import Drive, FileEntry
from catalog.selectors import forget_camera_choices
from search.indexing import index_drive

from .folders import ensure_folders, recount_folders

logger = logging.getLogger(__name__)

STAGING = "phs_import_staging"
BATCH = 5000
#: Scanner fields: what ``--update`` refreshes. Curator fields are not in this list.
SCANNER_FIELDS = [
    "oshash",
    "size",
    "mime_type",
    "category",
    "exif_date_raw",
    "exif_date",
    "duration",
    "resolution",
    "camera",
]
_STAGED = ["idx", "keyhash", "path", "filename", *SCANNER_FIELDS, "date"]
_PG_TYPES = {
    "idx": "bigint",
    "keyhash": "bigint",
    "size": "bigint",
    "duration": "double precision",
    "exif_date": "timestamptz",
    "date": "date",
}


class ManifestInvalid(Exception):
    """Some entries are bad; nothing was written. ``problems`` names each one."""

    def __init__(self, problems: ProblemLog, invalid_entries: int):
        self.problems = problems
        self.invalid_entries = invalid_entries
        super().__init__(f"{invalid_entries} invalid entries ({problems.count} problems)")


class ImportRefused(Exception):
    """The import cannot start (bad drive name, unreadable or malformed file)."""


@dataclass
class RepeatedEntry:
    path: str
    filename: str
    indexes: list[int]

    def __str__(self):
        where = f"{self.path}/{self.filename}" if self.path else self.filename
        return f"{where!r} appears at entries {', '.join(map(str, self.indexes))}; the last wins"


@dataclass
class ImportResult:
    drive: Drive
    drive_created: bool
    entries: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    not_in_manifest: int = 0
    folders: int = 0
    dry_run: bool = False
    problems: ProblemLog = field(default_factory=ProblemLog)
    repeated: list[RepeatedEntry] = field(default_factory=list)


Progress = Callable[[int], None]


def import_manifest(
    source: Path | IO[bytes],
    *,
    drive_name: str,
    update: bool = False,
    skip_invalid: bool = False,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> ImportResult:
    """Import one manifest into the drive ``drive_name`` (created if new).

    Raises ImportRefused for a bad drive name or a file that is not a JSON list,
    ManifestInvalid when entries are bad and ``skip_invalid`` is off. In both cases
    the database is exactly as it was.
    """
    if problem := validate_drive_name(drive_name):
        raise ImportRefused(problem)
    if isinstance(source, Path):
        try:
            with source.open("rb") as stream:
                return import_manifest(
                    stream,
                    drive_name=drive_name,
                    update=update,
                    skip_invalid=skip_invalid,
                    dry_run=dry_run,
                    progress=progress,
                )
        except OSError as error:
            raise ImportRefused(f"cannot read {source}: {error.strerror or error}") from error

    reader = ManifestReader(source)
    try:
        with _small_sqlite_cache(), transaction.atomic():
            result = _import(reader, drive_name, update, skip_invalid, progress)
            result.dry_run = dry_run
            if dry_run:
                transaction.set_rollback(True)
    except ManifestFormatError as error:
        raise ImportRefused(str(error)) from error
    if not dry_run and (result.created or result.updated):
        _refresh_planner_statistics()
        forget_camera_choices()
    logger.info(
        "import drive=%s entries=%d created=%d updated=%d unchanged=%d skipped=%d dry_run=%s",
        drive_name,
        result.entries,
        result.created,
        result.updated,
        result.unchanged,
        result.skipped,
        dry_run,
    )
    return result


def _import(
    reader: ManifestReader,
    drive_name: str,
    update: bool,
    skip_invalid: bool,
    progress: Progress | None,
) -> ImportResult:
    drive, drive_created = Drive.objects.get_or_create(name=drive_name)
    result = ImportResult(drive=drive, drive_created=drive_created, problems=reader.problems)
    staging = _Staging.for_connection()
    staging.create()
    try:
        paths: set[str] = set()
        keyhashes = array("q")
        batch: list[tuple] = []
        staged = 0
        for entry in reader:
            paths.add(entry.path)
            key = hash((entry.path, entry.filename))
            keyhashes.append(key)
            batch.append(staging.row(entry, key))
            if len(batch) >= BATCH:
                staging.write(batch)
                staged += len(batch)
                batch.clear()
                if progress:
                    progress(reader.seen)
        staging.write(batch)
        staged += len(batch)
        if progress:
            progress(reader.seen)

        if reader.problems and not skip_invalid:
            raise ManifestInvalid(reader.problems, reader.invalid_entries)
        result.skipped = reader.invalid_entries
        result.repeated = staging.drop_repeats(keyhashes)
        result.entries = staged - sum(len(r.indexes) - 1 for r in result.repeated)

        folder_ids = ensure_folders(drive, paths)
        result.folders = len(folder_ids)
        before = FileEntry.objects.filter(drive=drive).count()
        written = staging.merge(drive, update=update, now=timezone.now())
        after = FileEntry.objects.filter(drive=drive).count()
    finally:
        staging.drop()

    result.created = after - before
    result.updated = written - result.created
    result.unchanged = result.entries - result.created - result.updated
    result.not_in_manifest = after - result.entries
    drive.last_imported_at = timezone.now()
    drive.last_manifest = getattr(reader.stream, "name", "")[-255:].rsplit("/", 1)[-1]
    drive.save(update_fields=["last_imported_at", "last_manifest"])
    if result.created or result.updated:
        # Folder counts and the search index follow what the import wrote. An import
        # that wrote nothing skips both: even finding "nothing to do" reads the drive.
        recount_folders(drive)
        index_drive(drive.id)  # set-based; large imports are indexed after commit
    return result


class _Staging:
    """The temporary table an import streams into, with each database's fast path."""

    def __init__(self, cursor_factory=connection.cursor):
        self.cursor = cursor_factory

    @staticmethod
    def for_connection() -> "_Staging":
        if connection.vendor == "postgresql":
            return _PostgresStaging()
        return _Staging()

    def create(self) -> None:
        columns = ", ".join(f"{name} {_PG_TYPES.get(name, 'text')}" for name in _STAGED)
        with self.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {STAGING}")
            cursor.execute(f"CREATE TEMPORARY TABLE {STAGING} ({columns})")

    def drop(self) -> None:
        with self.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {STAGING}")

    def row(self, entry: ManifestEntry, keyhash: int) -> tuple:
        """The staging row of one entry, in ``_STAGED`` order (a million calls: kept lean)."""
        index, path, filename, oshash, size, mime, category, raw_date, exif_date, day, *rest = entry
        duration, resolution, camera = rest
        return (
            index,
            keyhash,
            path,
            filename,
            oshash,
            size,
            mime,
            category,
            raw_date,
            None if exif_date is None else self.adapt_datetime(exif_date),
            duration,
            resolution,
            camera,
            None if day is None else self.adapt_date(day),
        )

    @staticmethod
    def adapt_datetime(value):
        # What SQLite's adapt_datetimefield_value writes for an aware datetime (naive UTC
        # text), without its per-call settings and time zone lookups.
        return str(value.astimezone(UTC).replace(tzinfo=None))

    @staticmethod
    def adapt_date(value):
        return str(value)

    def write(self, rows: list[tuple]) -> None:
        if not rows:
            return
        placeholders = ", ".join(["%s"] * len(_STAGED))
        with self.cursor() as cursor:
            cursor.executemany(
                f"INSERT INTO {STAGING} ({', '.join(_STAGED)}) VALUES ({placeholders})",
                rows,
            )

    def drop_repeats(self, keyhashes: array) -> list[RepeatedEntry]:
        """Find (path, filename) pairs listed more than once; keep only the last of each.

        Candidates come from the in-memory key hashes (8 bytes per entry); only those
        few are then looked up in the staging table, so a clean manifest costs no query.
        """
        hashes = np.frombuffer(keyhashes, dtype=np.int64)
        if hashes.size < 2:
            return []
        ordered = np.sort(hashes)
        candidates = np.unique(ordered[1:][ordered[1:] == ordered[:-1]])
        if candidates.size == 0:
            return []
        by_key: dict[tuple[str, str], list[int]] = {}
        with self.cursor() as cursor:
            for start in range(0, candidates.size, 500):
                chunk = [int(h) for h in candidates[start : start + 500]]
                cursor.execute(
                    f"SELECT path, filename, idx FROM {STAGING} "
                    f"WHERE keyhash IN ({', '.join(['%s'] * len(chunk))})",
                    chunk,
                )
                for path, filename, idx in cursor.fetchall():
                    by_key.setdefault((path, filename), []).append(int(idx))
            repeated = [
                RepeatedEntry(path, filename, sorted(indexes))
                for (path, filename), indexes in sorted(by_key.items())
                if len(indexes) > 1
            ]
            losers = [i for r in repeated for i in r.indexes[:-1]]
            for start in range(0, len(losers), 500):
                chunk = losers[start : start + 500]
                cursor.execute(
                    f"DELETE FROM {STAGING} WHERE idx IN ({', '.join(['%s'] * len(chunk))})",
                    chunk,
                )
        return repeated

    def merge(self, drive: Drive, *, update: bool, now) -> int:
        """Upsert the staged rows into the catalog; return rows inserted plus updated."""
        table = FileEntry._meta.db_table
        scanner = ", ".join(SCANNER_FIELDS)
        staged = ", ".join(f"s.{name}" for name in SCANNER_FIELDS)
        if update:
            assignments = ", ".join(f"{name} = excluded.{name}" for name in SCANNER_FIELDS)
            changed = " OR ".join(
                f"{table}.{name} IS DISTINCT FROM excluded.{name}" for name in SCANNER_FIELDS
            )
            on_conflict = (
                f"DO UPDATE SET {assignments}, imported_at = excluded.imported_at WHERE {changed}"
            )
        else:
            on_conflict = "DO NOTHING"
        defaults = _new_row_defaults()
        sql = (
            f"INSERT INTO {table} (drive_id, folder_id, path, filename, {scanner}, "
            f"imported_at, date, {', '.join(defaults)}) "
            f"SELECT %s, fo.id, s.path, s.filename, {staged}, %s, s.date, "
            f"{', '.join(['%s'] * len(defaults))} "
            f"FROM {STAGING} s JOIN catalog_folder fo ON fo.drive_id = %s AND fo.path = s.path "
            f"WHERE TRUE ON CONFLICT (drive_id, path, filename) {on_conflict}"
        )
        params = [
            drive.id,
            connection.ops.adapt_datetimefield_value(now),
            *defaults.values(),
            drive.id,
        ]
        with self.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.rowcount


@contextmanager
def _small_sqlite_cache():
    """Keep an import's memory flat: SQLite's page cache (64 MiB for the site) is not
    needed for a one-pass merge; PostgreSQL's cache lives in the server."""
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        (previous,) = cursor.fetchone()
        cursor.execute("PRAGMA cache_size=-8192")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size={int(previous)}")


def _refresh_planner_statistics() -> None:
    """After a large write, PostgreSQL plans listings well only with fresh statistics
    (autovacuum may be off or late); SQLite's planner does not need them here."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE catalog_fileentry, catalog_folder")


#: Columns a new file gets from the import itself rather than from model defaults.
_IMPORTED_COLUMNS = {"id", "drive_id", "folder_id", "path", "filename", "imported_at", "date"}
#: A new file has no approved version yet: it is not "live" until a reviewer approves.
_NEW_ROW_OVERRIDES = {"live": False}


def _new_row_defaults() -> dict[str, object]:
    """Every other column of a new row, from the model's own defaults (prepared for SQL)."""
    defaults = {}
    for model_field in FileEntry._meta.concrete_fields:
        if model_field.column in _IMPORTED_COLUMNS or model_field.name in SCANNER_FIELDS:
            continue
        value = _NEW_ROW_OVERRIDES.get(model_field.name, model_field.get_default())
        defaults[model_field.column] = model_field.get_db_prep_save(value, connection)
    return defaults


class _PostgresStaging(_Staging):
    # psycopg adapts dates and datetimes itself (COPY's text format).
    @staticmethod
    def adapt_datetime(value):
        return value

    @staticmethod
    def adapt_date(value):
        return value

    def write(self, rows: list[tuple]) -> None:
        if not rows:
            return
        with self.cursor() as cursor:
            raw = cursor.cursor  # psycopg's own cursor: COPY is far faster than INSERTs
            with raw.copy(f"COPY {STAGING} ({', '.join(_STAGED)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)


__all__ = [
    "EntryProblem",
    "ImportRefused",
    "ImportResult",
    "ManifestInvalid",
    "import_manifest",
]
