"""Folder rows and their subtree counts.

A folder's counts cover its whole subtree, so the tree shows "reviewed / total"
without touching the file table. Imports call ``ensure_folders`` then
``recount_folders``; status changes call ``shift_status_counts``.
"""

from collections.abc import Iterable

from django.db import connection
from django.db.models import F

from catalog.models import Drive, Folder, Status
from catalog.schema import FILE_ENTRY, FOLDER

COUNTERS = ["file_count", "total_size", *(f"count_{status}" for status in Status.values)]
_STATUS_SLOT = {status: 2 + i for i, status in enumerate(Status.values)}


def ancestors(path: str) -> list[str]:
    """``a/b/c`` → ``["", "a", "a/b"]``; the root has none."""
    if not path:
        return []
    parts = path.split("/")
    return ["", *("/".join(parts[:i]) for i in range(1, len(parts)))]


def ensure_folders(
    drive: Drive, paths: Iterable[str], known: dict[str, int] | None = None
) -> dict[str, int]:
    """Create the folders (and their ancestors) that are missing; return path → id.

    ``known``: the drive's folders as a previous call returned them (an import calls
    this once per chunk); it is updated in place instead of reading them again.
    """
    ids = (
        known
        if known is not None
        else dict(Folder.objects.filter(drive=drive).values_list("path", "id"))
    )
    wanted = set()
    for path in paths:
        if path not in ids and path not in wanted:
            wanted.add(path)
            wanted.update(a for a in ancestors(path) if a not in ids)
    wanted.add("")  # every drive has a root, even an empty one
    missing = sorted((p for p in wanted if p not in ids), key=lambda p: (p.count("/"), p))
    # Parents before children: create one depth at a time so parent ids are known.
    by_depth: dict[int, list[str]] = {}
    for path in missing:
        by_depth.setdefault(_depth(path), []).append(path)
    # Plain INSERTs, not bulk_create: a new drive brings thousands of folders, and
    # building a model instance per row was most of this function's time.
    columns = ["drive_id", "parent_id", "path", "name", "depth", *COUNTERS]
    insert = (
        f"INSERT INTO {Folder._meta.db_table} ({', '.join(columns)}) "
        f"VALUES ({', '.join(['%s'] * len(columns))})"
    )
    zeros = (0,) * len(COUNTERS)
    with connection.cursor() as cursor:
        for depth in sorted(by_depth):
            cursor.executemany(
                insert,
                [
                    (
                        drive.id,
                        ids[_parent(path)] if path else None,
                        path,
                        _name(path),
                        depth,
                        *zeros,
                    )
                    for path in by_depth[depth]
                ],
            )
            cursor.execute(
                f"SELECT path, id FROM {Folder._meta.db_table} WHERE drive_id = %s AND depth = %s",
                [drive.id, depth],
            )
            ids.update(cursor.fetchall())
    return ids


def recount_folders(drive: Drive) -> int:
    """Recompute every folder's subtree counts of one drive; return how many changed.

    One grouped read from the (folder, status, size) index, a roll-up over the
    folder rows (not the files) deepest first, and writes only where numbers moved.
    """
    folders = list(
        Folder.objects.filter(drive=drive).values_list("id", "parent_id", "depth", *COUNTERS)
    )
    totals = {row[0]: [0] * len(COUNTERS) for row in folders}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT f.folder_id, f.status, COUNT(*), COALESCE(SUM(f.size), 0) "
            f"FROM {FILE_ENTRY} f WHERE f.drive_id = %s GROUP BY f.folder_id, f.status",
            [drive.id],
        )
        for folder_id, status, count, size in cursor.fetchall():
            row = totals[folder_id]
            row[0] += count
            row[1] += int(size)
            row[_STATUS_SLOT[status]] += count
    for folder_id, parent_id, *_ in sorted(folders, key=lambda r: -r[2]):
        if parent_id is not None:
            child, parent = totals[folder_id], totals[parent_id]
            for i, value in enumerate(child):
                parent[i] += value
    changed = [(*totals[row[0]], row[0]) for row in folders if list(row[3:]) != totals[row[0]]]
    if changed:
        assignments = ", ".join(f"{name} = %s" for name in COUNTERS)
        with connection.cursor() as cursor:
            cursor.executemany(
                f"UPDATE {FOLDER} SET {assignments} WHERE id = %s",
                changed,
            )
    return len(changed)


def shift_status_counts(
    *, drive_id: int, paths: list[str], old_status: str, new_status: str, files: int = 1
) -> None:
    """Move ``files`` from one status counter to another in the given folders of a drive."""
    if old_status == new_status:
        return
    Folder.objects.filter(drive_id=drive_id, path__in=paths).update(
        **{
            f"count_{old_status}": F(f"count_{old_status}") - files,
            f"count_{new_status}": F(f"count_{new_status}") + files,
        }
    )


def _depth(path: str) -> int:
    return path.count("/") + 1 if path else 0


def _name(path: str) -> str:
    return path.rsplit("/", 1)[-1]


def _parent(path: str) -> str:
    return path.rsplit("/", 1)[0] if "/" in path else ""
