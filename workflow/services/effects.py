"""What follows a change to files' decisions: one function per kind of change.

The single-file services (``review``) and the set-based ones (``bulk``) write the rows
their own way — one locked row, or chunked UPDATEs — and then call the same function
here for everything that follows from it: folder counters, duplicate conflicts and the
exports they hold back or release, the search index, notifications. A side effect
written here holds on every path; tests/workflow/test_parity.py runs each action once
singly and once in bulk and compares the rows they leave.

Folder counters are always moved last: every status change on a drive writes the
drive's root folder row, so the transaction holds that lock only until it commits.
"""

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Count, F, QuerySet

from catalog.models import DuplicateGroup, FileEntry, Folder
from catalog.services.duplicates import refresh_conflicts
from catalog.services.folders import ancestors
from search.indexing import index_files
from workflow.export.requests import request_exports
from workflow.notify import notify_reviewers, notify_reviewers_if_first, notify_submitters


@dataclass(frozen=True)
class StatusMove:
    """``count`` files in folder ``path`` of a drive went from status ``old`` to ``new``."""

    drive_id: int
    path: str
    old: str
    new: str
    count: int = 1


def moves_to(files: QuerySet[FileEntry], *, new_status: str) -> list[StatusMove]:
    """How ``files`` will move to ``new_status``, by folder: read before the UPDATE."""
    rows = (
        files.exclude(status=new_status)
        .order_by()
        .values("drive_id", "path", "status")
        .annotate(n=Count("pk"))
        .values_list("drive_id", "path", "status", "n")
    )
    return [StatusMove(drive, path, old, new_status, n) for drive, path, old, n in rows]


# ------------------------------------------------------------------ kinds of change


def decisions_saved(
    *, ids: list[int], user, moves: Iterable[StatusMove] = (), reindex: bool = True
) -> None:
    """Curators saved decisions or metadata of ``ids`` (singly or in bulk).

    ``reindex``: a curator text field or the project group changed (the search index
    holds those; status and review state are read live, see ``search.indexing``).
    """
    moves = [move for move in moves if move.old != move.new]
    if reindex:
        index_files(ids)  # search: new titles, notes and project groups are findable now
    if moves:
        settle_conflicts(ids, user=user)
    move_counts(moves)


def rejected(
    *, ids: list[int], user, moves: Iterable[StatusMove], comment: str, submitters: dict
) -> None:
    """Reviewers sent ``ids`` back. ``submitters`` maps each submitter to their files."""
    moves = list(moves)
    settle_conflicts(ids, user=user)
    transaction.on_commit(
        lambda: notify_submitters(reviewer=user, comment=comment, files_by_submitter=submitters)
    )
    move_counts(moves)


def approved(*, ids: list[int], user) -> None:
    """Reviewers approved ``ids``: they are published, so pad.ma gets them."""
    request_exports(ids, user=user)


def primaries_chosen(*, ids: list[int], user) -> None:
    """Reviewers made ``ids`` the primaries of their groups: an approved one now goes to
    the export (``request_exports`` skips the rest, e.g. a group still conflicting)."""
    request_exports(ids, user=user)


def submitted(*, task, user, files: list[FileEntry] | None = None, count: int = 0) -> None:
    """Curators sent files to review: one e-mail per reviewer, never one per file.

    A single submission (``files=[file]``) tells the reviewers only when the queue was
    empty; a bulk one (``count``) sends one digest.
    """
    if files is not None and len(files) == 1:
        notify_reviewers_if_first(file=files[0], task=task, submitted_by=user)
    elif count:
        transaction.on_commit(lambda: notify_reviewers(task=task, submitted_by=user, count=count))


# ------------------------------------------------------------------------- parts


def settle_conflicts(ids: list[int], *, user) -> list[int]:
    """Re-flag the duplicate groups of ``ids``; a group settled releases its primary.

    An approved primary waits while its group's copies carry conflicting decisions;
    once they agree it goes to the export queue (``request_exports`` skips anything
    that is still not exportable). Returns the groups whose flag changed.
    """
    groups = list(
        FileEntry.objects.filter(pk__in=ids, duplicate_group__isnull=False)
        .order_by()
        .values_list("duplicate_group_id", flat=True)
        .distinct()
    )
    changed = refresh_conflicts(groups)
    if changed:
        primaries = DuplicateGroup.objects.filter(pk__in=changed, primary__isnull=False)
        request_exports(list(primaries.values_list("primary_id", flat=True)), user=user)
    return changed


def move_counts(moves: Iterable[StatusMove]) -> None:
    """Shift folder counters for ``moves``: one UPDATE per set of folders that move alike.

    A single file's move is one UPDATE of its folder and every folder above it.
    """
    deltas: dict[tuple[int, str], Counter] = defaultdict(Counter)
    for move in moves:
        if move.old == move.new:
            continue
        for folder in [*ancestors(move.path), move.path]:
            deltas[move.drive_id, folder][move.old] -= move.count
            deltas[move.drive_id, folder][move.new] += move.count
    alike: dict[tuple[int, frozenset], list[str]] = defaultdict(list)
    for (drive_id, folder), delta in deltas.items():
        change = frozenset((status, n) for status, n in delta.items() if n)
        if change:
            alike[drive_id, change].append(folder)
    for (drive_id, change), folders in alike.items():
        Folder.objects.filter(drive_id=drive_id, path__in=folders).update(
            **{f"count_{status}": F(f"count_{status}") + n for status, n in change}
        )
