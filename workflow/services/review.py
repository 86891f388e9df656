"""Review of one file: save a decision, submit, approve, reject, cancel.

Each action is one function. The Wagtail workflow machinery (its editor buttons,
dashboard and task actions) ends up here too: ``signal_handlers`` forwards
Wagtail's workflow signals to the ``on_*`` functions below, and approval publishes
through ``finish_review`` (``WAGTAIL_FINISH_WORKFLOW_ACTION``). What the columns
become is decided by ``workflow.states`` alone.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from catalog.models import FileEntry, ReviewState
from catalog.services.files import update_file
from workflow.services import effects
from workflow.services.effects import StatusMove
from workflow.services.permissions import permissions_for
from workflow.states import Event, can_submit, review_state_after, status_after


class ReviewError(Exception):
    """An action that cannot be done to this file now; the message says why."""


class FileLocked(ReviewError):
    """Someone else holds the file's lock: it is read-only for everyone else."""

    def __init__(self, file: FileEntry):
        self.file = file
        super().__init__(f"{file.location} is locked by {file.locked_by}.")


class VersionConflict(ReviewError):
    """Someone saved the file since the editor opened it."""

    def __init__(self, file: FileEntry, expected: int):
        self.file = file
        self.expected = expected
        super().__init__(
            f"{file.location} was changed by {file.reviewed_by or 'someone'} since you "
            f"opened it (version {file.version}, yours {expected})."
        )


@transaction.atomic
def save_decision(
    *, file: FileEntry, user, changes: dict, expected_version: int | None = None
) -> FileEntry:
    """A curator's save: fields, reviewer stamp, folder counts, a revision, the review state.

    With ``expected_version``, refuses (VersionConflict) when the file has been saved
    by anyone since that version was read — nothing is overwritten silently. Only
    ``file.pk`` is read: the row is read here, locked; the saved file is returned.
    """
    current = (
        FileEntry.objects.select_for_update(of=("self",))
        .select_related("drive", "reviewed_by", "locked_by")
        .get(pk=file.pk)
    )
    allowed = permissions_for(current, user, submitted_by_id=None)
    if not allowed.edit:
        if current.locked:
            raise FileLocked(current)
        allowed.require("edit", current)
    if expected_version is not None and current.version != expected_version:
        raise VersionConflict(current, expected_version)
    file = current  # what the form or client sent is in ``changes``; the rest is stored
    old_status = file.status
    in_review = file.review_state == ReviewState.IN_REVIEW
    new_status = changes.get("status", old_status)
    file.review_state = review_state_after(Event.SAVED, status=new_status, in_review=in_review)
    if file.review_state != ReviewState.REJECTED:
        file.review_comment = ""
    file.version += 1
    update_file(
        file=file,
        user=user,
        changes=changes,
        old_status=old_status,
        also_save=("review_state", "review_comment", "version"),
        defer_counts=True,
    )
    file.save_revision(user=user, log_action=True, clean=False)
    if in_review and file.review_state != ReviewState.IN_REVIEW:
        # The new decision needs no approval: withdraw the pending review.
        workflow_state = file.current_workflow_state
        if workflow_state is not None:
            workflow_state.cancel(user=user)
    effects.decisions_saved(
        ids=[file.pk],
        user=user,
        moves=[StatusMove(file.drive_id, file.path, old_status, file.status)],
        reindex=bool(set(changes) - {"status"}),
    )
    return file


@transaction.atomic
def submit_for_review(*, file: FileEntry, user) -> FileEntry:
    """Send one decided file to the reviewers (Wagtail's workflow does the bookkeeping)."""
    file = FileEntry.objects.select_for_update().get(pk=file.pk)
    permissions_for(file, user, submitted_by_id=None).require("edit", file)
    if not can_submit(status=file.status, review_state=file.review_state):
        raise ReviewError(_why_not_submittable(file))
    workflow_state = file.current_workflow_state
    if workflow_state is not None and workflow_state.status == workflow_state.STATUS_NEEDS_CHANGES:
        workflow_state.resume(user=user)
    else:
        workflow = file.get_workflow()
        if workflow is None:
            raise ReviewError("No review workflow is assigned to files.")
        workflow.start(file, user)
    file.refresh_from_db()
    return file


@transaction.atomic
def approve(*, file: FileEntry, user, comment: str = "") -> FileEntry:
    task_state = _current_task_state(file, user)
    task_state.task.specific.on_action(task_state, user, "approve", comment=comment)
    file.refresh_from_db()
    return file


@transaction.atomic
def reject(*, file: FileEntry, user, comment: str) -> FileEntry:
    if not comment.strip():
        raise ValidationError("Say what needs to change: a comment is required to reject.")
    task_state = _current_task_state(file, user)
    task_state.task.specific.on_action(task_state, user, "reject", comment=comment)
    file.refresh_from_db()
    return file


@transaction.atomic
def cancel_review(*, file: FileEntry, user) -> FileEntry:
    file = FileEntry.objects.select_related("drive", "locked_by").get(pk=file.pk)
    workflow_state = file.current_workflow_state
    if workflow_state is None:
        raise ReviewError(f"{file.location} is not in review.")
    permissions_for(file, user, submitted_by_id=workflow_state.requested_by_id).require(
        "cancel", file
    )
    workflow_state.cancel(user=user)
    file.refresh_from_db()
    return file


# Wagtail's workflow calls these (through signal_handlers / the finish action).


def finish_review(workflow_state, user=None) -> None:
    """WAGTAIL_FINISH_WORKFLOW_ACTION: publish the approved version as the approver.

    The review task has already checked that ``user`` may approve; the publish
    permission is not also required (reviewers have no direct "Publish" button).
    """
    revision = workflow_state.content_object.get_latest_revision()
    revision.publish(user=user, skip_permission_checks=True)


def on_submitted(file: FileEntry, *, task, user=None) -> None:
    _set_review_state(file, review_state_after(Event.SUBMITTED, status=file.status))
    effects.submitted(task=task, user=user, files=[file])


def on_published(file: FileEntry, *, user=None) -> None:
    """Any publish (approval, or an administrator's direct publish) exports the file."""
    _set_review_state(file, review_state_after(Event.APPROVED, status=file.status))
    effects.approved(ids=[file.pk], user=user)


def on_rejected(file: FileEntry, *, user=None, comment: str = "", submitted_by=None) -> None:
    old_status = file.status
    file.status = status_after(Event.REJECTED, status=old_status)
    file.review_state = review_state_after(Event.REJECTED, status=old_status)
    file.review_comment = comment
    file.version += 1
    file.save(update_fields=["status", "review_state", "review_comment", "version"])
    # The editor shows the latest revision: record the new status there too.
    file.save_revision(user=user, clean=False)
    effects.rejected(
        ids=[file.pk],
        user=user,
        moves=[StatusMove(file.drive_id, file.path, old_status, file.status)],
        comment=comment,
        submitters={submitted_by: [file.location]},
    )


def on_cancelled(file: FileEntry) -> None:
    _set_review_state(file, review_state_after(Event.CANCELLED, status=file.status))


def _set_review_state(file: FileEntry, review_state: str) -> None:
    FileEntry.objects.filter(pk=file.pk).update(review_state=review_state, review_comment="")
    file.review_state = review_state
    file.review_comment = ""


def _current_task_state(file: FileEntry, user):
    task_state = file.current_workflow_task_state
    if task_state is None:
        raise ReviewError(f"{file.location} is not waiting for review.")
    if task_state.workflow_state.requested_by_id == getattr(user, "pk", None):
        raise PermissionDenied("You cannot review your own submission.")
    submitted_by = task_state.workflow_state.requested_by_id
    stored = FileEntry.objects.select_related("drive", "locked_by").get(pk=file.pk)
    permissions_for(stored, user, submitted_by_id=submitted_by).require("approve", stored)
    actions = {name for name, _label, _modal in task_state.task.specific.get_actions(file, user)}
    if "approve" not in actions:
        raise PermissionDenied("You are not a reviewer of this task.")
    return task_state


def _why_not_submittable(file: FileEntry) -> str:
    if file.review_state == ReviewState.IN_REVIEW:
        return f"{file.location} is already in review."
    if file.review_state == ReviewState.APPROVED:
        return f"{file.location} is approved; change it before submitting again."
    return (
        f"{file.location} is {file.get_status_display().lower()}: only files decided "
        "for upload or restricted upload need review."
    )
