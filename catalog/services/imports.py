"""Importing a drive manifest into the catalog: one transaction, set-based, idempotent.

The manifest is read in chunks (``CHUNK`` entries) by a parser thread that validates
every entry. Each chunk is streamed into a temporary staging table (COPY on PostgreSQL,
``executemany`` on SQLite) and its new files are inserted with one ``INSERT … ON
CONFLICT DO NOTHING`` keyed by (drive, path, filename), while the parser reads the next
chunk: Python's parsing and the database's writing overlap. If any entry is bad and
``skip_invalid`` is off, the transaction is rolled back and nothing has changed. Files
the catalog already had are left alone, or, with ``update``, get their scanner fields
refreshed once every chunk is staged. Curator fields are never written.
"""

import logging
import queue
import threading
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
from catalog.models import Drive, FileEntry, Folder
from catalog.schema import FOLDER
from catalog.selectors import forget_camera_choices
from catalog.signals import drive_files_changed

from .folders import ensure_folders, recount_folders

logger = logging.getLogger(__name__)

STAGING = "phs_import_staging"
#: Entries parsed, staged and merged at a time (see ``_ChunkParser``).
CHUNK = 20_000
#: Rows per ``executemany`` into a staging table (SQLite).
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

    Raises ImportRefused for a bad drive name or a file that is not a JSON list of
    entries (an empty list too), ManifestInvalid when entries are bad and
    ``skip_invalid`` is off. In both cases the database is exactly as it was.
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
        with _import_sqlite_cache(), transaction.atomic():
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
    now = timezone.now()
    before = FileEntry.objects.filter(drive=drive).count()
    last_id_before = _last_file_id()  # files of this drive with a higher id are new
    folder_ids = None
    created = staged = 0
    parser = _ChunkParser(reader, staging.row, progress)
    try:
        parser.request()
        while (chunk := parser.next()) is not None:
            table = staging.create()
            staging.write(table, chunk.rows)
            staged += len(chunk.rows)
            chunk.rows = []  # staged: free it before the parser fills the next one
            folder_ids = ensure_folders(drive, chunk.paths, folder_ids)
            # The parser reads the next chunk while the database merges this one.
            parser.request()
            if skip_invalid or not reader.problems:  # else nothing will be written
                created += staging.insert_new(table, drive, now=now)

        if not reader.seen:  # rolled back with the rest: no empty drive is left behind
            raise ImportRefused("the manifest lists no files (an empty JSON list)")
        if reader.problems and not skip_invalid:
            raise ManifestInvalid(reader.problems, reader.invalid_entries)
        result.skipped = reader.invalid_entries
        result.repeated = staging.settle_repeats(
            parser.keyhashes,
            chunk=parser.size,
            drive=drive,
            folder_ids=folder_ids or {},
            now=now,
            created_after=last_id_before,
        )
        result.entries = staged - sum(len(r.indexes) - 1 for r in result.repeated)
        if update:
            result.updated = staging.update_existing(drive, now=now, before=last_id_before)
        if folder_ids is None:  # every entry skipped as invalid: the drive still gets its root
            folder_ids = ensure_folders(drive, [])
        result.folders = len(folder_ids)
    finally:
        parser.stop()
        staging.drop()

    result.created = created
    after = before + created
    result.unchanged = result.entries - result.created - result.updated
    result.not_in_manifest = after - result.entries
    drive.last_imported_at = timezone.now()
    drive.last_manifest = getattr(reader.stream, "name", "")[-255:].rsplit("/", 1)[-1]
    drive.save(update_fields=["last_imported_at", "last_manifest"])
    if result.created or result.updated:
        # Folder counts and the search index follow what the import wrote. An import
        # that wrote nothing skips both: even finding "nothing to do" reads the drive.
        recount_folders(drive)
        # search indexes the drive (set-based; large imports after commit).
        drive_files_changed.send(sender=Drive, drive_id=drive.id)
    return result


def _last_file_id() -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {FileEntry._meta.db_table}")
        return cursor.fetchone()[0]


@dataclass
class _Chunk:
    rows: list[tuple]
    paths: set[str]


class _ChunkParser:
    """Reads the manifest in a thread, one chunk of staging rows per ``request()``.

    The import's own thread owns the database. It asks for the next chunk just before
    it merges the current one, so parsing (Python) and merging (the database) overlap,
    and the parser is idle while the import thread runs per-row Python work (COPY,
    ``executemany``) that would otherwise contend with it for the interpreter lock.
    """

    def __init__(
        self,
        reader: ManifestReader,
        make_row: Callable,
        progress: Progress | None = None,
        size: int | None = None,
    ):
        self.reader, self.make_row, self.size = reader, make_row, size or CHUNK
        #: Called with the entries read so far, every 100 (the reporter decides what to show).
        self.progress = progress
        #: Every staged entry's key hash, in manifest order (8 bytes per entry).
        self.keyhashes = array("q")
        self._entries = iter(reader)
        self._requests: queue.SimpleQueue[bool] = queue.SimpleQueue()
        self._chunks: queue.SimpleQueue[_Chunk | BaseException | None] = queue.SimpleQueue()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="manifest-parser", daemon=True)
        self._thread.start()

    def request(self) -> None:
        self._requests.put(True)

    def next(self) -> _Chunk | None:
        """The requested chunk; None after the last. Re-raises what the parser raised."""
        chunk = self._chunks.get()
        if isinstance(chunk, BaseException):
            raise chunk
        return chunk

    def stop(self) -> None:
        self._stopping = True
        self._requests.put(False)
        self._thread.join()

    def _run(self) -> None:
        try:
            while self._requests.get() and not self._stopping:
                chunk = self._parse()
                self._chunks.put(chunk)
                if chunk is None:
                    return
        except BaseException as error:  # handed to the import thread, raised there
            self._chunks.put(error)

    def _parse(self) -> _Chunk | None:
        rows: list[tuple] = []
        paths: set[str] = set()
        keyhashes = self.keyhashes
        make_row, size, progress, reader = self.make_row, self.size, self.progress, self.reader
        for entry in self._entries:
            paths.add(entry.path)
            key = hash((entry.path, entry.filename))
            keyhashes.append(key)
            rows.append(make_row(entry, key))
            if progress and not reader.seen % 100:
                progress(reader.seen)
            if len(rows) >= size or self._stopping:
                break
        if not rows:
            if progress:
                progress(reader.seen)
            return None
        return _Chunk(rows, paths)


class _Staging:
    """The temporary tables an import streams into (one per chunk), with each
    database's fast path, and the statements that merge them into the catalog."""

    def __init__(self, cursor_factory=connection.cursor):
        self.cursor = cursor_factory
        self.tables: list[str] = []

    @staticmethod
    def for_connection() -> "_Staging":
        if connection.vendor == "postgresql":
            return _PostgresStaging()
        return _Staging()

    def create(self) -> str:
        table = f"{STAGING}_{len(self.tables)}"
        columns = ", ".join(f"{name} {_PG_TYPES.get(name, 'text')}" for name in _STAGED)
        with self.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {table}")
            cursor.execute(f"CREATE TEMPORARY TABLE {table} ({columns})")
        self.tables.append(table)
        return table

    def drop(self) -> None:
        with self.cursor() as cursor:
            for table in self.tables:
                cursor.execute(f"DROP TABLE IF EXISTS {table}")
        self.tables.clear()

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

    def write(self, table: str, rows: list[tuple]) -> None:
        placeholders = ", ".join(["%s"] * len(_STAGED))
        with self.cursor() as cursor:
            for start in range(0, len(rows), BATCH):
                cursor.executemany(
                    f"INSERT INTO {table} ({', '.join(_STAGED)}) VALUES ({placeholders})",
                    rows[start : start + BATCH],
                )

    def occurrences(self, tables: list[str], keyhashes) -> dict[tuple[str, str], list[tuple]]:
        """(path, filename) → [(idx, table), …] of the staged rows with these key hashes."""
        found: dict[tuple[str, str], list[tuple]] = {}
        with self.cursor() as cursor:
            for start in range(0, len(keyhashes), 500):
                chunk = [int(h) for h in keyhashes[start : start + 500]]
                for table in tables:
                    cursor.execute(
                        f"SELECT path, filename, idx FROM {table} "
                        f"WHERE keyhash IN ({', '.join(['%s'] * len(chunk))})",
                        chunk,
                    )
                    for path, filename, idx in cursor.fetchall():
                        found.setdefault((path, filename), []).append((int(idx), table))
        return found

    def settle_repeats(
        self,
        keyhashes: array,
        *,
        chunk: int,
        drive: Drive,
        folder_ids: dict[str, int],
        now,
        created_after: int,
    ) -> list[RepeatedEntry]:
        """Every (path, filename) the manifest lists more than once, with all its entries;
        the last one wins.

        Each chunk's insert kept the first entry of a new file (``DO NOTHING``): such a
        file is given its last entry's fields here, and only that entry stays staged
        for ``--update``. Candidates come from the key hashes (8 bytes per entry), so a
        manifest without repeats costs no query, and only the chunks (``chunk`` staged
        entries each, in manifest order) that hold a candidate are read.
        """
        hashes = np.frombuffer(keyhashes, dtype=np.int64)  # parsing has ended
        ordered = np.sort(hashes)
        candidates = np.unique(ordered[1:][ordered[1:] == ordered[:-1]])
        if candidates.size == 0:
            return []
        chunks = np.unique(np.flatnonzero(np.isin(hashes, candidates)) // chunk)
        tables = [self.tables[i] for i in chunks]
        repeated = []
        winners: dict[str, list[tuple[int, str, str]]] = {}
        losers: dict[str, list[int]] = {}
        for (path, filename), places in sorted(self.occurrences(tables, candidates).items()):
            if len(places) < 2:
                continue  # two locations with one hash
            places.sort()
            repeated.append(RepeatedEntry(path, filename, [idx for idx, _ in places]))
            last, table = places[-1]
            winners.setdefault(table, []).append((last, path, filename))
            for idx, table in places[:-1]:
                losers.setdefault(table, []).append(idx)
        # A file this import created gets the fields of its last entry: one statement per
        # repeated location, which finds the entry by its number (indexed here, in the few
        # chunks that hold repeats) and the file by its unique key, as ON CONFLICT always
        # does. A join of a chunk with the drive's files (or an UPDATE by path and name)
        # leaves the planner to choose, and for a new drive, that the statistics said had
        # no files, it chose a scan of the chunk per file (40,000 files with 5 repeats
        # took 85 s instead of 8 on PostgreSQL) or of the drive's index per repeat.
        file_table = FileEntry._meta.db_table
        fields = ", ".join(f"{name} = excluded.{name}" for name in [*SCANNER_FIELDS, "date"])
        with self.cursor() as cursor:
            for table in sorted({*winners, *losers}):
                cursor.execute(f"CREATE INDEX {table}_idx ON {table} (idx)")
            for table, entries in winners.items():
                sql, params = _insert_from(
                    table,
                    folder="%(folder)s",
                    rest="WHERE s.idx = %(idx)s ON CONFLICT (drive_id, path, filename) "
                    f"DO UPDATE SET {fields} WHERE {file_table}.id > %(after)s",
                )
                params |= {"drive": drive.id, "now": _adapt_now(now), "after": created_after}
                cursor.executemany(
                    sql,
                    [
                        {**params, "idx": idx, "folder": folder_ids[path]}
                        for idx, path, _ in entries
                    ],
                )
            # Only the last entry of each stays staged, for ``--update``.
            for table, indexes in losers.items():
                for start in range(0, len(indexes), 500):
                    batch = indexes[start : start + 500]
                    cursor.execute(
                        f"DELETE FROM {table} WHERE idx IN ({', '.join(['%s'] * len(batch))})",
                        batch,
                    )
        return repeated

    def insert_new(self, table: str, drive: Drive, *, now) -> int:
        """Insert the staged files the catalog does not have yet; return how many."""
        sql, params = _insert_from(
            table,
            folder="fo.id",
            rest=f"JOIN {FOLDER} fo ON fo.drive_id = %(drive)s AND fo.path = s.path "
            "WHERE TRUE ON CONFLICT (drive_id, path, filename) DO NOTHING",
        )
        with self.cursor() as cursor:
            cursor.execute(sql, {**params, "drive": drive.id, "now": _adapt_now(now)})
            return cursor.rowcount

    def update_existing(self, drive: Drive, *, now, before: int) -> int:
        """``--update``: refresh the scanner fields of files that were in the catalog
        before this import (id ≤ ``before``) where they differ; return how many.

        Run once every chunk is staged and repeats are settled, so a file listed twice
        is compared with its last entry only, and a re-run changes nothing.
        """
        file_table = FileEntry._meta.db_table
        assignments = ", ".join(f"{name} = s.{name}" for name in SCANNER_FIELDS)
        changed = " OR ".join(
            f"{file_table}.{name} IS DISTINCT FROM s.{name}" for name in SCANNER_FIELDS
        )
        updated = 0
        with self.cursor() as cursor:
            for table in self.tables:
                cursor.execute(
                    f"UPDATE {file_table} SET {assignments}, imported_at = %s FROM {table} s "
                    f"WHERE {file_table}.drive_id = %s AND {file_table}.path = s.path "
                    f"AND {file_table}.filename = s.filename AND {file_table}.id <= %s "
                    f"AND ({changed})",
                    [_adapt_now(now), drive.id, before],
                )
                updated += cursor.rowcount
        return updated


#: SQLite's page cache during an import (the site's connections keep 64 MiB). An import
#: writes new rows at the right edge of most indexes but at random places in
#: ``(oshash, size)``; with 8 MiB those leaf pages kept leaving the cache, and a 100,000-
#: file drive took ~15% longer to import into a 900,000-file catalog. 32 MiB keeps most
#: of them and the import's peak memory well under its 100 MB budget (bench/README.md).
IMPORT_SQLITE_CACHE_KIB = 32 * 1024


@contextmanager
def _import_sqlite_cache():
    """Give an import a page cache of its own size, whatever the site's; PostgreSQL's
    cache lives in the server."""
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        (previous,) = cursor.fetchone()
        cursor.execute(f"PRAGMA cache_size=-{IMPORT_SQLITE_CACHE_KIB}")
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
            cursor.execute(f"ANALYZE {FileEntry._meta.db_table}, {Folder._meta.db_table}")


def _insert_from(table: str, *, folder: str, rest: str) -> tuple[str, dict]:
    """``INSERT … SELECT`` of files from the staged rows ``s`` of ``table``: the folder
    id is ``folder``, ``rest`` follows ``FROM table s``. Named parameters: ``drive``,
    ``now`` (adapted) and those of ``rest`` are the caller's; the returned ones give
    every other column its default."""
    defaults = _new_row_defaults()
    sql = (
        f"INSERT INTO {FileEntry._meta.db_table} (drive_id, folder_id, path, filename, "
        f"{', '.join(SCANNER_FIELDS)}, imported_at, date, {', '.join(defaults)}) "
        f"SELECT %(drive)s, {folder}, s.path, s.filename, "
        f"{', '.join(f's.{name}' for name in SCANNER_FIELDS)}, %(now)s, s.date, "
        f"{', '.join(f'%(default_{i})s' for i in range(len(defaults)))} FROM {table} s {rest}"
    )
    return sql, {f"default_{i}": value for i, value in enumerate(defaults.values())}


def _adapt_now(now):
    return connection.ops.adapt_datetimefield_value(now)


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

    def write(self, table: str, rows: list[tuple]) -> None:
        with self.cursor() as cursor:
            raw = cursor.cursor  # psycopg's own cursor: COPY is far faster than INSERTs
            with raw.copy(f"COPY {table} ({', '.join(_STAGED)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)


__all__ = [
    "EntryProblem",
    "ImportRefused",
    "ImportResult",
    "ManifestInvalid",
    "import_manifest",
]
