"""Writing a curator's fields to one file row, stamping who and when.

``workflow.services.review.save_decision`` is the one caller: it decides the review
state and leaves the consequences (folder counts, conflicts, index) to
``workflow.services.effects``."""

from django.db import transaction
from django.utils import timezone

from catalog.models import FileEntry

from .folders import ancestors, shift_status_counts

#: The fields archivists may change; everything else comes from the scanner.
CURATOR_FIELDS = ("status", "title", "description", "project_group", "date", "notes")


# No savepoint: save_decision calls this inside its own transaction, and on PostgreSQL
# each SAVEPOINT and RELEASE is a round trip; an error still rolls everything back.
@transaction.atomic(savepoint=False)
def update_file(
    *,
    file: FileEntry,
    user,
    changes: dict,
    old_status: str | None = None,
    also_save: tuple[str, ...] = (),
    defer_counts: bool = False,
) -> FileEntry:
    """Apply ``changes`` (curator fields only) to ``file`` as ``user``.

    ``old_status`` is the stored status when the caller has already locked and read the
    row (``save_decision`` does); ``also_save`` names fields the caller set on ``file``
    that go into the same UPDATE, so one save is one write of the row. With
    ``defer_counts`` the caller calls ``count_status_change`` itself, last.
    """
    unknown = set(changes) - set(CURATOR_FIELDS)
    if unknown:
        raise ValueError(f"not curator fields: {', '.join(sorted(unknown))}")
    if old_status is None:
        # Lock the row and read the stored status: the instance may carry the new one.
        old_status = (
            FileEntry.objects.select_for_update(of=("self",))
            .values_list("status", flat=True)
            .get(pk=file.pk)
        )
    for name, value in changes.items():
        setattr(file, name, value)
    file.reviewed_at = timezone.now()
    file.reviewed_by = user
    file.save(update_fields=[*changes, "reviewed_at", "reviewed_by", *also_save])
    if not defer_counts:
        count_status_change(file, old_status)
    return file


def count_status_change(file: FileEntry, old_status: str) -> None:
    """Move ``file`` from ``old_status``'s count to its status's in its folder and above.

    Every save on a drive writes the drive's root folder row, so concurrent saves queue
    on its lock until they commit: callers do this as the last write of a transaction.
    """
    if file.status != old_status:
        shift_status_counts(
            drive_id=file.drive_id,
            paths=[*ancestors(file.path), file.path],
            old_status=old_status,
            new_status=file.status,
        )
