"""Forward Wagtail's workflow and publish signals for files to the review services.

No logic here: each handler picks out files and calls ``workflow.services.review``.
Wagtail sends these for every path (editor buttons, dashboard, programmatic calls).
"""

from wagtail.models import TaskState, WorkflowState
from wagtail.signals import (
    published,
    task_submitted,
    workflow_approved,
    workflow_cancelled,
    workflow_rejected,
    workflow_submitted,
)

from catalog.models import FileEntry
from workflow.services import review


def _file_of(workflow_state) -> FileEntry | None:
    obj = workflow_state.content_object
    return obj if isinstance(obj, FileEntry) else None


def on_task_submitted(sender, instance, user=None, **kwargs):
    # Sent when a review starts and when a rejected one is resubmitted (resumed).
    if file := _file_of(instance.workflow_state):
        review.on_submitted(file, task=instance.task.specific, user=user)


def on_workflow_rejected(sender, instance, user=None, **kwargs):
    if file := _file_of(instance):
        task_state = instance.current_task_state
        review.on_rejected(
            file,
            user=user,
            comment=task_state.comment if task_state else "",
            submitted_by=instance.requested_by,
        )


def on_workflow_cancelled(sender, instance, user=None, **kwargs):
    if file := _file_of(instance):
        review.on_cancelled(file)


def on_published(sender, instance, revision=None, user=None, **kwargs):
    if isinstance(instance, FileEntry):
        review.on_published(instance, user=user)


def _no_email(sender, **kwargs):
    """Stands in for Wagtail's per-file e-mails (see ``connect``)."""


#: Wagtail's receivers that e-mail every reviewer on each submission and the submitter
#: on each approval: one message per file (docs/workflow.md, "E-mail").
WAGTAIL_PER_FILE_EMAILS = [
    (task_submitted, TaskState, "group_approval_task_submitted_email_notification"),
    (workflow_submitted, WorkflowState, "workflow_state_submitted_email_notification"),
    (workflow_approved, WorkflowState, "workflow_state_approved_email_notification"),
    # Rejections are e-mailed by workflow.services.effects.rejected, on every path.
    (workflow_rejected, WorkflowState, "workflow_state_rejected_email_notification"),
]


def connect() -> None:
    # This app is ready before wagtail.admin, which connects its e-mail receivers under
    # these dispatch_uids; a signal connects one receiver per uid and sender, so
    # Wagtail's stay out.
    for signal, sender, uid in WAGTAIL_PER_FILE_EMAILS:
        signal.connect(_no_email, sender=sender, dispatch_uid=uid)
    task_submitted.connect(on_task_submitted, dispatch_uid="phs_task_submitted")
    workflow_rejected.connect(on_workflow_rejected, dispatch_uid="phs_workflow_rejected")
    workflow_cancelled.connect(on_workflow_cancelled, dispatch_uid="phs_workflow_cancelled")
    published.connect(on_published, sender=FileEntry, dispatch_uid="phs_file_published")
