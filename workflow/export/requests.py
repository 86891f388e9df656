"""Recording export requests (the outbox) when files are approved.

Approvals — the single-file approve and the set-based bulk approve — call
``request_exports`` inside their transaction, so an approved file and its export request
commit together or not at all. The export itself runs after commit, in the background
(``workflow.tasks.export_pending``). See docs/export.md.
"""

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from catalog.models import FileEntry
from workflow.models import ExportRequest, ExportState

from .eligibility import Blocker, ExportFacts, export_refusal

logger = logging.getLogger("workflow")

#: Ids are looked up this many at a time (SQLite limits the parameters of a statement).
ID_CHUNK = 5000
INSERT_BATCH = 1000


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
    #: Approved but never sendable (no oshash, or under 8 bytes): recorded as skipped
    #: requests with the reason, so the export report says why nothing went to pad.ma.
    refused: int = 0


#: ``summarize_requests``' counter for each situational refusal.
_COUNTED = {
    Blocker.NOT_APPROVED: "not_exportable",
    Blocker.DECISION_NOT_EXPORTED: "not_exportable",
    Blocker.DECISION_CHANGED: "not_exportable",
    Blocker.CONFLICT: "conflicting",
    Blocker.SPARE_COPY: "spare_copies",
}


def request_exports(files_or_ids, *, user=None) -> int:
    """Queue an export of each exportable file among ``files_or_ids``; return how many.

    ``files_or_ids`` is a queryset of files, file objects or ids. Works in sets: no file
    object is loaded, and 10,000 ids take a handful of queries. A file that already has
    a pending request gets no second one. Must run inside the approval's transaction;
    the background export is enqueued once it commits.
    """
    return summarize_requests(files_or_ids, user=user).created


def summarize_requests(files_or_ids, *, user=None) -> RequestSummary:
    """``request_exports``, returning what was created and why the rest was not.

    Each file's row is judged by ``eligibility.export_refusal``, the rule the runner
    applies again before sending. Approved files that can never be sent get a request
    recorded as skipped, with the reason (``_record_refusals``).
    """
    summary = RequestSummary()
    pending = ExportRequest.objects.filter(file=OuterRef("pk"), state=ExportState.PENDING)
    for selection in _selections(files_or_ids):
        rows = (
            FileEntry.objects.filter(selection)
            .annotate(has_pending=Exists(pending))
            .values_list(*_ROW)
            .order_by()
        )
        new, refused = [], {}
        for row in rows.iterator(chunk_size=ID_CHUNK):
            values = dict(zip(_ROW, row, strict=True))
            refusal = export_refusal(_facts(values))
            if refusal is not None and not refusal.blocker.permanent:
                counter = _COUNTED[refusal.blocker]
                setattr(summary, counter, getattr(summary, counter) + 1)
            elif values["has_pending"]:
                summary.already_pending += 1
            elif refusal is None:
                new.append(
                    ExportRequest(
                        file_id=values["pk"],
                        revision_id=values["live_revision_id"],
                        requested_by=user,
                    )
                )
            else:
                refused[values["pk"], values["live_revision_id"]] = refusal
        # ignore_conflicts: a concurrent approval may have queued the same file; the
        # partial unique index keeps one pending request per file.
        ExportRequest.objects.bulk_create(new, batch_size=INSERT_BATCH, ignore_conflicts=True)
        summary.created += len(new)
        summary.refused += _record_refusals(refused, user=user)
    if summary.created:
        _enqueue_after_commit()
    if summary.created or summary.spare_copies or summary.conflicting or summary.refused:
        logger.info(
            "export requests: %d queued, %d already pending, %d spare copies skipped, "
            "%d in conflicting groups skipped, %d never sendable (recorded), "
            "%d not exportable",
            summary.created,
            summary.already_pending,
            summary.spare_copies,
            summary.conflicting,
            summary.refused,
            summary.not_exportable,
        )
    return summary


def _record_refusals(refused: dict, *, user) -> int:
    """A skipped request with the reason for each approved version never recorded yet
    (a file approved again keeps one record per version, not one per approval)."""
    if not refused:
        return 0
    recorded = set(
        ExportRequest.objects.filter(
            file_id__in={pk for pk, _revision in refused}, state=ExportState.SKIPPED
        ).values_list("file_id", "revision_id")
    )
    now = timezone.now()
    records = [
        ExportRequest(
            file_id=pk,
            revision_id=revision_id,
            requested_by=user,
            state=ExportState.SKIPPED,
            last_error=refusal.message,
            finished_at=now,
        )
        for (pk, revision_id), refusal in refused.items()
        if (pk, revision_id) not in recorded
    ]
    ExportRequest.objects.bulk_create(records, batch_size=INSERT_BATCH)
    return len(records)


_ROW = (
    "pk",
    "live_revision_id",
    "status",
    "review_state",
    "oshash",
    "size",
    "duplicate_group_id",
    "duplicate_group__primary_id",
    "duplicate_group__has_conflict",
    "has_pending",
)


def _facts(values: dict) -> ExportFacts:
    return ExportFacts.at_approval(
        status=values["status"],
        review_state=values["review_state"],
        has_live_revision=values["live_revision_id"] is not None,
        oshash=values["oshash"],
        size=values["size"],
        group_id=values["duplicate_group_id"],
        group_primary_id=values["duplicate_group__primary_id"],
        group_has_conflict=values["duplicate_group__has_conflict"],
        file_id=values["pk"],
    )


def _selections(files_or_ids) -> Iterable[Q]:
    if isinstance(files_or_ids, QuerySet):
        yield Q(pk__in=files_or_ids.values("pk"))
        return
    ids = [getattr(item, "pk", item) for item in files_or_ids]
    for start in range(0, len(ids), ID_CHUNK):
        yield Q(pk__in=ids[start : start + ID_CHUNK])


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
