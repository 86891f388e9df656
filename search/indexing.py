"""Keeping the search index current: the functions the write paths call.

All set-based: one ``INSERT … SELECT`` per chunk (and, on SQLite, one per FTS table),
folding done in the database (PostgreSQL) or by a registered SQL function (SQLite); the
files' folders are indexed with them. The index holds only what curators and the
scanner own (names, folder paths, title, description, notes, project group, camera;
drive and type, which only imports set); status, review state, duplicates and export
are read live from ``FileEntry`` by the facets, so status changes need no re-indexing.
"""

import logging
import time
from collections.abc import Iterable

from django.db import transaction

from catalog.schema import FILE_ENTRY

from .backends import get_backend
from .backends.base import Progress

logger = logging.getLogger(__name__)


def index_files(file_ids: Iterable[int]) -> int:
    """(Re)index these files now (chunked); ids of deleted files are ignored."""
    ids = sorted({int(pk) for pk in file_ids})
    return get_backend().index_files(ids) if ids else 0


#: An import changing more files than this is indexed after it commits, in a task (its
#: rows are then written in bulk: GIN pending lists, FTS5 tables filled set-based; see
#: docs/search.md). Smaller imports are searchable the moment they commit.
SYNC_LIMIT = 20_000


def index_drive(drive_id: int) -> int:
    """After an import: index the drive's new or changed files — now when they are few,
    after commit (``search.tasks``) when there are many. Returns rows indexed now."""
    backend = get_backend()
    if backend.count_unindexed(drive_id, limit=SYNC_LIMIT + 1) <= SYNC_LIMIT:
        return index_drive_now(drive_id)
    from .tasks import index_drive_task

    transaction.on_commit(lambda: index_drive_task.enqueue(drive_id), robust=True)
    logger.info("search index drive=%s: deferred until the import commits", drive_id)
    return 0


def index_drive_now(drive_id: int) -> int:
    started = time.perf_counter()
    written = get_backend().index_drive(drive_id)
    logger.info(
        "search index drive=%s rows=%d %.2fs", drive_id, written, time.perf_counter() - started
    )
    return written


def index_project_group(project_group_id: int) -> int:
    """After a project group is renamed: its files' tags change."""
    return get_backend().index_where(f"f.{FILE_ENTRY.project_group} = %s", [project_group_id])


def rebuild_index(progress: Progress | None = None) -> int:
    """Empty the index and index every file from scratch; return rows indexed."""
    return get_backend().rebuild(progress)
