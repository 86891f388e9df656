"""Duplicate groups: every oshash held by more than one file, and which copy is primary.

All of it is set-based SQL over the oshash index; nothing loops over files in Python.
Files under 8 bytes hash to their size and empty files to ``0000000000000000``, so
their hashes say nothing about content: they never form groups (see ``TINY_HASH_MAX``).
Manual primary choices survive incremental runs; ``reset`` recomputes everything.
"""

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import Sum
from django.utils import timezone

from catalog.models import DuplicateGroup, FileEntry, SelectionMethod, SelectionReason
from catalog.schema import DRIVE

logger = logging.getLogger(__name__)

#: The largest hash a file under 8 bytes can have (its size); such files never group.
TINY_HASH_MAX = "0000000000000007"
HASHES = "phs_duplicate_hashes"
#: Hashes with files not yet linked to their group.
SHORT = "phs_duplicate_unlinked"
FILES = FileEntry._meta.db_table
GROUPS = DuplicateGroup._meta.db_table

#: How each automatic method orders a group's copies; the first becomes primary.
_PRIMARY_ORDER = {
    SelectionMethod.AUTO_LARGEST: "COALESCE(f.size, -1) DESC, d.name, f.path, f.filename, f.id",
    SelectionMethod.AUTO_SHORTEST_PATH: (
        "LENGTH(f.path) + LENGTH(f.filename), d.name, f.path, f.filename, f.id"
    ),
}
AUTO_METHODS = list(_PRIMARY_ORDER)
#: Each method's first step: (SQL of a copy ``f``'s key, the direction that wins, the
#: reason it gives). The rest of the order is the same for both.
_FIRST_STEP = {
    SelectionMethod.AUTO_LARGEST: ("COALESCE(f.size, -1)", ">", SelectionReason.LARGEST),
    SelectionMethod.AUTO_SHORTEST_PATH: (
        "LENGTH(f.path) + LENGTH(f.filename)",
        "<",
        SelectionReason.SHORTEST_PATH,
    ),
}


class DuplicateError(Exception):
    pass


@dataclass
class DuplicateResult:
    groups: int = 0
    created: int = 0
    removed: int = 0
    files: int = 0
    bytes_reclaimable: int = 0
    tiny_files_left_out: int = 0
    primaries_chosen: int = 0


def update_duplicates(
    *,
    reset: bool = False,
    method: str = SelectionMethod.AUTO_LARGEST,
    only_hashes: Iterable[str] | None = None,
    rechoose_automatic: bool = False,
) -> DuplicateResult:
    """Bring duplicate groups in line with the catalog's oshashes.

    ``only_hashes`` limits the work to those hashes (``import_repeats`` uses it);
    ``method`` picks the primary where a group has none (or all, with ``reset``);
    ``rechoose_automatic`` also re-picks every primary that was not chosen by hand.
    """
    if method not in _PRIMARY_ORDER:
        raise DuplicateError(
            f"unknown selection method {method!r}; choose one of {', '.join(AUTO_METHODS)}"
        )
    result = DuplicateResult()
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Grouping a million hashes in memory: with the default 4MB PostgreSQL walks
            # the oshash index instead, visiting the heap for every row an import or a
            # bulk update has left not yet vacuumed (2-5 s instead of 1 s at 1M files).
            cursor.execute("SET LOCAL work_mem = '256MB'")
        scope = ""
        if only_hashes is not None:
            _load_scope(cursor, only_hashes)
            scope = "AND f.oshash IN (SELECT oshash FROM phs_duplicate_scope)"
        cursor.execute(f"DROP TABLE IF EXISTS {HASHES}")
        cursor.execute(
            f"CREATE TEMPORARY TABLE {HASHES} (oshash varchar(16) PRIMARY KEY, "
            "members bigint, total bigint)"
        )
        cursor.execute(
            f"INSERT INTO {HASHES} (oshash, members, total) "
            f"SELECT f.oshash, COUNT(*), COALESCE(SUM(f.size), 0) FROM {FILES} f "
            f"WHERE f.oshash > %s {scope} GROUP BY f.oshash HAVING COUNT(*) > 1",
            [TINY_HASH_MAX],
        )
        group_scope = scope.replace("f.oshash", "g.oshash")

        # Groups whose hash is no longer shared: detach their files, then drop them.
        stale = (
            f"SELECT g.id FROM {GROUPS} g WHERE g.oshash NOT IN (SELECT oshash FROM {HASHES}) "
            f"{group_scope}"
        )
        cursor.execute(
            f"UPDATE {FILES} SET duplicate_group_id = NULL, is_primary = FALSE "
            f"WHERE duplicate_group_id IN ({stale})"
        )
        cursor.execute(f"DELETE FROM {GROUPS} WHERE id IN ({stale})")
        result.removed = cursor.rowcount

        cursor.execute(f"SELECT COUNT(*) FROM {GROUPS}")
        before = cursor.fetchone()[0]
        cursor.execute(
            f"INSERT INTO {GROUPS} (oshash, selection_method, member_count, "
            "bytes_reclaimable, updated_at) "
            f"SELECT oshash, %s, members, 0, %s FROM {HASHES} WHERE TRUE "
            "ON CONFLICT (oshash) DO UPDATE SET member_count = excluded.member_count, "
            "updated_at = excluded.updated_at "
            f"WHERE {GROUPS}.member_count <> excluded.member_count",
            [method, now],
        )
        cursor.execute(f"SELECT COUNT(*) FROM {GROUPS}")
        result.created = cursor.fetchone()[0] - before

        # Files whose hash changed since they were grouped leave their old group.
        cursor.execute(
            f"UPDATE {FILES} SET duplicate_group_id = NULL, is_primary = FALSE "
            f"WHERE duplicate_group_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM {GROUPS} g "
            f"WHERE g.id = {FILES}.duplicate_group_id AND g.oshash = {FILES}.oshash)"
        )
        # Members join their group: only where a hash has more files than its group
        # has linked members, so a run with nothing new reads no file row.
        cursor.execute(f"DROP TABLE IF EXISTS {SHORT}")
        cursor.execute(f"CREATE TEMPORARY TABLE {SHORT} (oshash varchar(16) PRIMARY KEY)")
        cursor.execute(
            f"INSERT INTO {SHORT} (oshash) SELECT h.oshash FROM {HASHES} h "
            f"JOIN {GROUPS} g ON g.oshash = h.oshash "
            f"LEFT JOIN (SELECT duplicate_group_id AS gid, COUNT(*) AS n FROM {FILES} "
            "WHERE duplicate_group_id IS NOT NULL GROUP BY duplicate_group_id) linked "
            "ON linked.gid = g.id WHERE COALESCE(linked.n, 0) < h.members"
        )
        cursor.execute(
            f"UPDATE {FILES} SET duplicate_group_id = (SELECT g.id FROM {GROUPS} g "
            f"WHERE g.oshash = {FILES}.oshash) "
            f"WHERE oshash IN (SELECT oshash FROM {SHORT}) AND duplicate_group_id IS NULL"
        )
        if rechoose_automatic:
            cursor.execute(
                f"UPDATE {GROUPS} SET primary_id = NULL WHERE selection_method <> %s "
                f"AND oshash IN (SELECT oshash FROM {HASHES})",
                [SelectionMethod.MANUAL],
            )
        # A primary that left its group is no primary.
        cursor.execute(
            f"UPDATE {GROUPS} SET primary_id = NULL WHERE primary_id IS NOT NULL "
            f"AND NOT EXISTS (SELECT 1 FROM {FILES} f WHERE f.id = {GROUPS}.primary_id "
            f"AND f.duplicate_group_id = {GROUPS}.id)"
        )
        # Choose primaries where there is none (with ``reset``: everywhere, manual choices
        # included) and write only the groups whose primary or method actually changes.
        # One pass over the members of those groups (their index) ranks the copies; the
        # first is the primary, and the step at which it beat the second is the reason.
        which = "TRUE" if reset else "g.primary_id IS NULL"
        pairs = _ranked_pairs(method, where=f"{which} {group_scope}", primary=None)
        cursor.execute(
            f"UPDATE {GROUPS} SET selection_method = %s, primary_id = s.pick, "
            "selection_reason = s.reason, selected_at = %s, selected_by_id = NULL, "
            f"updated_at = %s FROM (SELECT gid, pick, {_reason(method)} AS reason "
            f"FROM ({pairs}) t) s WHERE {GROUPS}.id = s.gid AND ({GROUPS}.primary_id IS "
            f"DISTINCT FROM s.pick OR {GROUPS}.selection_method <> %s "
            f"OR {GROUPS}.selection_reason <> s.reason)",
            [method, now, now, method],
        )
        result.primaries_chosen = cursor.rowcount
        # Groups that changed now but kept their primary: does it still come first?
        for auto in AUTO_METHODS:
            record_reasons(
                cursor,
                method=auto,
                where="g.updated_at = %s AND g.selected_at IS DISTINCT FROM %s",
                params=[now, now],
            )
        _sync_primary_flags(cursor)
        _refresh_reclaimable(cursor, f"oshash IN (SELECT oshash FROM {HASHES})")
        refresh_conflicts()
        cursor.execute(f"DROP TABLE IF EXISTS {HASHES}")
        cursor.execute(f"DROP TABLE IF EXISTS {SHORT}")
        if only_hashes is not None:
            cursor.execute("DROP TABLE IF EXISTS phs_duplicate_scope")

    totals = DuplicateGroup.objects.aggregate(
        files=Sum("member_count"), reclaimable=Sum("bytes_reclaimable")
    )
    result.groups = DuplicateGroup.objects.count()
    result.files = totals["files"] or 0
    result.bytes_reclaimable = totals["reclaimable"] or 0
    result.tiny_files_left_out = FileEntry.objects.filter(oshash__lte=TINY_HASH_MAX).count()
    logger.info(
        "duplicates groups=%d created=%d removed=%d reclaimable=%d reset=%s",
        result.groups,
        result.created,
        result.removed,
        result.bytes_reclaimable,
        reset,
    )
    return result


def record_reasons(cursor, *, method: str, where: str, params: list) -> None:
    """Record what decided the primary of the groups ``g`` chosen by ``method`` that
    satisfy ``where``: the first step of the method's order at which the primary comes
    before the best other copy (its runner-up). One statement; only changed rows written.

    The order is the method's first step (size, or path length), then drive name, path
    and file name (``_PRIMARY_ORDER``): copies of one oshash nearly always have one size,
    so most groups are decided by drive name. A primary that now comes after its
    runner-up (a copy added since it was chosen) was ``kept``.
    """
    pairs = _ranked_pairs(
        method,
        where=f"g.selection_method = %s AND g.primary_id IS NOT NULL AND {where}",
        primary="g.primary_id",
    )
    cursor.execute(
        f"UPDATE {GROUPS} SET selection_reason = s.reason FROM (SELECT gid, "
        f"{_reason(method)} AS reason FROM ({pairs}) t) s "
        f"WHERE {GROUPS}.id = s.gid AND {GROUPS}.selection_reason <> s.reason",
        [method, *params],
    )


def _ranked_pairs(method: str, *, where: str, primary: str | None) -> str:
    """SQL: one row per group ``g`` satisfying ``where`` — ``gid``, ``pick`` (the first
    copy in the method's order), ``others`` (0 when there is no second) and the sort
    keys of the primary and of its runner-up (``p_k``, ``r_k``, ``p_dname``, …).

    ``primary``: the SQL of the group's current primary's id, whose runner-up is the
    first of the other copies; ``None``: the primary is the first copy, its runner-up
    the second. One pass over the groups' members (their index), no lookup per group.
    """
    key, _wins, _first = _FIRST_STEP[method]
    order = _PRIMARY_ORDER[method]
    mine = f"CASE WHEN f.id = {primary} THEN 1 ELSE 0 END" if primary else "0"
    ranked = (
        f"SELECT f.duplicate_group_id AS gid, f.id AS fid, {mine} AS mine, {key} AS k, "
        "d.name AS dname, f.path, f.filename, ROW_NUMBER() OVER (PARTITION BY "
        f"f.duplicate_group_id, {mine} ORDER BY {order}) AS rn "
        f"FROM {GROUPS} g JOIN {FILES} f ON f.duplicate_group_id = g.id "
        f"JOIN {DRIVE} d ON d.id = f.drive_id WHERE {where}"
    )
    if primary:
        is_p, is_r = "mine = 1", "mine = 0 AND rn = 1"
    else:
        is_p, is_r = "rn = 1", "rn = 2"
    columns = ", ".join(
        f"MAX(CASE WHEN {is_p} THEN {c} END) AS p_{c}, MAX(CASE WHEN {is_r} THEN {c} END) AS r_{c}"
        for c in ("k", "dname", "path", "filename")
    )
    return (
        f"SELECT gid, MAX(CASE WHEN {is_p} THEN fid END) AS pick, "
        f"SUM(CASE WHEN {is_r} THEN 1 ELSE 0 END) AS others, {columns} "
        f"FROM ({ranked}) m WHERE m.rn <= 2 GROUP BY gid"
    )


def _reason(method: str) -> str:
    """SQL: the ``SelectionReason`` of a row of ``_ranked_pairs``: the first step of the
    order at which the primary beats its runner-up, or ``kept`` if it does not."""
    _key, wins, first = _FIRST_STEP[method]
    loses = "<" if wins == ">" else ">"
    kept = SelectionReason.KEPT
    return (
        f"CASE WHEN others = 0 OR p_k {wins} r_k THEN '{first}' "
        f"WHEN p_k {loses} r_k THEN '{kept}' "
        f"WHEN p_dname < r_dname THEN '{SelectionReason.DRIVE}' "
        f"WHEN p_dname > r_dname THEN '{kept}' "
        f"WHEN p_path < r_path THEN '{SelectionReason.PATH}' "
        f"WHEN p_path > r_path THEN '{kept}' "
        f"WHEN p_filename < r_filename THEN '{SelectionReason.FILENAME}' ELSE '{kept}' END"
    )


def make_primary(files: Iterable[FileEntry], *, user=None) -> int:
    """Make each given file the primary copy of its group, by hand (recording ``user``
    and when); return groups changed.

    Refuses (changing nothing) when a file is in no group or two files share a group.
    """
    files = list(files)
    by_group: dict[int, FileEntry] = {}
    for file in files:
        if file.duplicate_group_id is None:
            raise DuplicateError(f"{file.location} has no duplicates; nothing to make primary")
        if file.duplicate_group_id in by_group:
            raise DuplicateError(
                f"{file.location} and {by_group[file.duplicate_group_id].location} are copies "
                "of the same file; choose one of them"
            )
        by_group[file.duplicate_group_id] = file
    if not by_group:
        return 0
    now = timezone.now()
    with transaction.atomic():
        for group_id, file in by_group.items():
            DuplicateGroup.objects.filter(id=group_id).update(
                primary_id=file.id,
                selection_method=SelectionMethod.MANUAL,
                selection_reason=SelectionReason.MANUAL,
                selected_at=now,
                selected_by=user if user is not None and user.pk else None,
                updated_at=now,
            )
        with connection.cursor() as cursor:
            _sync_primary_flags(cursor, group_ids=list(by_group))
            ids = ", ".join(str(int(g)) for g in by_group)
            _refresh_reclaimable(cursor, f"id IN ({ids})")
    return len(by_group)


def refresh_conflicts(group_ids: Iterable[int] | None = None) -> list[int]:
    """Flag groups whose copies carry different decisions (say, one upload, one discard).

    Unreviewed copies do not count. A flagged group is not exported until a
    reviewer settles it; see docs/workflow.md. Returns the groups whose flag changed
    (a settled group may release its primary to the export queue).
    """
    where = ""
    if group_ids is not None:
        ids = [int(g) for g in group_ids]
        if not ids:
            return []
        where = f"WHERE g.id IN ({', '.join(map(str, ids))})"
    with connection.cursor() as cursor:
        # One grouped pass over the members index; only flags that change are written.
        cursor.execute(
            f"UPDATE {GROUPS} SET has_conflict = s.conflict FROM (SELECT g.id AS gid, "
            "COUNT(DISTINCT CASE WHEN f.status <> 'unreviewed' THEN f.status END) > 1 "
            f"AS conflict FROM {GROUPS} g LEFT JOIN {FILES} f ON f.duplicate_group_id = g.id "
            f"{where} GROUP BY g.id) s "
            f"WHERE {GROUPS}.id = s.gid AND {GROUPS}.has_conflict <> s.conflict "
            f"RETURNING {GROUPS}.id"
        )
        return [group_id for (group_id,) in cursor.fetchall()]


def _sync_primary_flags(cursor, group_ids: list[int] | None = None) -> None:
    """Set ``FileEntry.is_primary`` to agree with ``DuplicateGroup.primary``."""
    only = ""
    if group_ids is not None:
        only = f"AND duplicate_group_id IN ({', '.join(str(int(g)) for g in group_ids)})"
    primaries = f"SELECT primary_id FROM {GROUPS} WHERE primary_id IS NOT NULL"
    cursor.execute(
        f"UPDATE {FILES} SET is_primary = TRUE WHERE id IN ({primaries}) AND NOT is_primary {only}"
    )
    cursor.execute(
        f"UPDATE {FILES} SET is_primary = FALSE WHERE is_primary "
        f"AND duplicate_group_id IS NOT NULL {only} AND id NOT IN ({primaries})"
    )


def _refresh_reclaimable(cursor, where: str) -> None:
    """Bytes freed by keeping only the primary: all copies' sizes minus the primary's.

    Writes only groups whose figure changed.
    """
    cursor.execute(
        f"UPDATE {GROUPS} SET bytes_reclaimable = s.reclaimable FROM (SELECT g.id AS gid, "
        f"COALESCE(SUM(f.size), 0) - COALESCE((SELECT p.size FROM {FILES} p "
        "WHERE p.id = g.primary_id), 0) AS reclaimable "
        f"FROM {GROUPS} g LEFT JOIN {FILES} f ON f.duplicate_group_id = g.id "
        f"WHERE g.id IN (SELECT id FROM {GROUPS} WHERE {where}) GROUP BY g.id, g.primary_id) s "
        f"WHERE {GROUPS}.id = s.gid AND {GROUPS}.bytes_reclaimable <> s.reclaimable"
    )


def _load_scope(cursor, hashes: Iterable[str]) -> None:
    cursor.execute("DROP TABLE IF EXISTS phs_duplicate_scope")
    cursor.execute("CREATE TEMPORARY TABLE phs_duplicate_scope (oshash varchar(16) PRIMARY KEY)")
    batch: list[tuple[str]] = []
    for oshash in set(hashes):
        batch.append((oshash,))
        if len(batch) >= 5000:
            cursor.executemany("INSERT INTO phs_duplicate_scope (oshash) VALUES (%s)", batch)
            batch.clear()
    if batch:
        cursor.executemany("INSERT INTO phs_duplicate_scope (oshash) VALUES (%s)", batch)
