"""Recording export requests (the outbox) when files are approved.

Approvals call ``request_exports`` inside their transaction, so an approved file
and its export request commit together or not at all; the export itself runs
after commit, in the background.
"""

from django.db import transaction
from django.db.models import Exists, OuterRef, Q

from catalog.models import FileEntry, ReviewState
from workflow.models import ExportRequest, ExportState
from workflow.states import NEEDS_APPROVAL


def exportable_files():
    """Approved uploads that are not a spare copy and not in a conflicting group."""
    return FileEntry.objects.filter(
        status__in=NEEDS_APPROVAL,
        review_state=ReviewState.APPROVED,
        live_revision__isnull=False,
    ).filter(
        Q(duplicate_group__isnull=True) | Q(is_primary=True, duplicate_group__has_conflict=False)
    )


def request_exports(file_ids, *, user=None) -> int:
    """Queue an export for each exportable file among ``file_ids``; return how many."""
    pending = ExportRequest.objects.filter(file=OuterRef("pk"), state=ExportState.PENDING)
    files = (
        exportable_files()
        .filter(pk__in=list(file_ids))
        .exclude(Exists(pending))
        .values_list("pk", "live_revision_id")
    )
    created = ExportRequest.objects.bulk_create(
        ExportRequest(file_id=pk, revision_id=revision_id, requested_by=user)
        for pk, revision_id in files
    )
    if created:
        transaction.on_commit(_enqueue_export)
    return len(created)


def _enqueue_export() -> None:
    try:
        from workflow.tasks import export_pending
    except ImportError:  # the task module arrives with the exporter
        return
    export_pending.enqueue()
