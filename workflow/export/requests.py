"""Recording export requests (the outbox) when files are approved.

Approvals — the single-file approve and the set-based bulk approve — call
``request_exports`` inside their transaction, so an approved file and its export request
commit together or not at all. The export itself runs after commit, in the background
(``workflow.tasks.export_pending``). See docs/export.md.
"""

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, F, OuterRef, Q, QuerySet

from catalog.models import FileEntry, ReviewState
from workflow.models import ExportRequest, ExportState

logger = logging.getLogger("workflow")

#: Ids are looked up this many at a time (SQLite limits the parameters of a statement).
ID_CHUNK = 5000
INSERT_BATCH = 1000


def exportable_statuses() -> list[str]:
    """Statuses that have a pan.do/ra rights level (``PADMA_RIGHTS_LEVELS``)."""
    return list(settings.PADMA_RIGHTS_LEVELS)


def in_exportable_copy() -> Q:
    """Not a copy of something: alone, or the primary of a group without a conflict."""
    return Q(duplicate_group__isnull=True) | Q(
        duplicate_group__primary=F("pk"), duplicate_group__has_conflict=False
    )


def exportable_files() -> QuerySet[FileEntry]:
    """Approved, with an approved version, decided for pad.ma, and not a spare copy."""
    return FileEntry.objects.filter(
        in_exportable_copy(),
        status__in=exportable_statuses(),
        review_state=ReviewState.APPROVED,
        live_revision__isnull=False,
    )


@dataclass
class RequestSummary:
    created: int = 0
    already_pending: int = 0
    #: Other copies of a duplicate group: only the primary is ever exported.
    spare_copies: int = 0
    #: In a group whose copies carry conflicting decisions: a reviewer must settle it.
    conflicting: int = 0
    #: Not approved, not decided for pad.ma, or without an approved version.
    not_exportable: int = 0


def request_exports(files_or_ids, *, user=None) -> int:
    """Queue an export of each exportable file among ``files_or_ids``; return how many.

    ``files_or_ids`` is a queryset of files, file objects or ids. Works in sets: no file
    object is loaded, and 10,000 ids take a handful of queries. A file that already has
    a pending request gets no second one. Must run inside the approval's transaction;
    the background export is enqueued once it commits.
    """
    return summarize_requests(files_or_ids, user=user).created


def summarize_requests(files_or_ids, *, user=None) -> RequestSummary:
    """``request_exports``, returning what was created and why the rest was not."""
    summary = RequestSummary()
    pending = ExportRequest.objects.filter(file=OuterRef("pk"), state=ExportState.PENDING)
    for selection in _selections(files_or_ids):
        candidates = FileEntry.objects.filter(selection)
        rows = list(
            candidates.filter(
                in_exportable_copy(),
                status__in=exportable_statuses(),
                review_state=ReviewState.APPROVED,
                live_revision__isnull=False,
            )
            .annotate(has_pending=Exists(pending))
            .values_list("pk", "live_revision_id", "has_pending")
        )
        new = [
            ExportRequest(file_id=pk, revision_id=revision_id, requested_by=user)
            for pk, revision_id, has_pending in rows
            if not has_pending
        ]
        # ignore_conflicts: a concurrent approval may have queued the same file; the
        # partial unique index keeps one pending request per file.
        ExportRequest.objects.bulk_create(new, batch_size=INSERT_BATCH, ignore_conflicts=True)
        summary.created += len(new)
        summary.already_pending += len(rows) - len(new)
        if candidates.count() > len(rows):
            _count_the_rest(candidates, summary)
    if summary.created:
        _enqueue_after_commit()
    if summary.created or summary.spare_copies or summary.conflicting:
        logger.info(
            "export requests: %d queued, %d already pending, %d spare copies skipped, "
            "%d in conflicting groups skipped, %d not exportable",
            summary.created,
            summary.already_pending,
            summary.spare_copies,
            summary.conflicting,
            summary.not_exportable,
        )
    return summary


def _selections(files_or_ids) -> Iterable[Q]:
    if isinstance(files_or_ids, QuerySet):
        yield Q(pk__in=files_or_ids.values("pk"))
        return
    ids = [getattr(item, "pk", item) for item in files_or_ids]
    for start in range(0, len(ids), ID_CHUNK):
        yield Q(pk__in=ids[start : start + ID_CHUNK])


def _count_the_rest(candidates: QuerySet, summary: RequestSummary) -> None:
    """Why the others were left out: one grouped query, never a row per file."""
    approved = candidates.filter(
        status__in=exportable_statuses(),
        review_state=ReviewState.APPROVED,
        live_revision__isnull=False,
    )
    in_group = approved.filter(duplicate_group__isnull=False)
    summary.conflicting += in_group.filter(duplicate_group__has_conflict=True).count()
    summary.spare_copies += (
        in_group.filter(duplicate_group__has_conflict=False)
        .exclude(duplicate_group__primary=F("pk"))
        .count()
    )
    summary.not_exportable += candidates.count() - approved.count()


def _enqueue_after_commit() -> None:
    """Enqueue the export once per transaction, however many chunks queued requests."""
    if any(func is _enqueue_export for _sids, func, _robust in connection.run_on_commit):
        return
    transaction.on_commit(_enqueue_export, robust=True)


def _enqueue_export() -> None:
    from workflow.tasks import export_pending

    if _export_task_waiting(export_pending):
        return  # it has not started: it will find these requests too
    export_pending.enqueue()


def _export_task_waiting(task) -> bool:
    """Whether an export task sits in the database queue, not yet picked up.

    Twenty approvals a minute need one export run, not twenty (each signs in to
    pad.ma). Only a task that has not started counts: a running one may have read the
    pending requests before this commit.
    """
    if type(task.get_backend()).__name__ != "DatabaseBackend":
        return False
    from django_tasks_db.models import DBTaskResult

    return DBTaskResult.objects.filter(status="READY", task_path=task.module_path).exists()
