"""Who may do what to a file — decided here, once, for every path.

``permissions_for(file, user)`` answers for one file, as Wagtail's
``permissions_for_user`` does for a page: the Curate API's ``can`` flags, the file
editor's buttons and the review services themselves ask it. ``may_in_bulk`` answers for
a whole queryset with the same rules as SQL, for the bulk actions; a test checks the two
agree on every situation (tests/workflow/test_permissions.py).

The rules:

- **edit** (decide, describe, submit): the ``catalog.change_fileentry`` permission
  (Curators, Reviewers, Operators), and the file not locked by someone else;
- **submit**: edit, and the decision needs approval and is not yet submitted
  (``workflow.states.can_submit``);
- **approve** / **reject**: a reviewer (``workflow.models.is_reviewer``), the file in
  review, not their own submission (four eyes), not locked by someone else;
- **cancel** (withdraw from review): edit, the file in review, and whoever submitted it
  or a superuser — not another curator, a reviewer or an operator.
"""

from dataclasses import dataclass

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.db.models import BigIntegerField, Q, QuerySet
from django.db.models.functions import Cast
from wagtail.models import WorkflowState

from catalog.models import FileEntry, ReviewState
from workflow.models import is_reviewer
from workflow.states import NEEDS_APPROVAL, can_submit

#: The model permission behind every curator action.
CHANGE = "catalog.change_fileentry"

#: Marks "the submitter was not looked up": ``permissions_for`` reads it then.
_UNKNOWN = object()


@dataclass(frozen=True)
class FilePermissions:
    edit: bool
    submit: bool
    approve: bool
    reject: bool
    cancel: bool
    #: Why editing is refused, in words ("" when it is allowed).
    why_not_edit: str = ""

    def as_dict(self) -> dict:
        return {name: getattr(self, name) for name in ACTIONS}

    def require(self, action: str, file: FileEntry) -> None:
        """Raise ``PermissionDenied`` with the reason when ``action`` is not allowed."""
        if getattr(self, action):
            return
        raise PermissionDenied(_refusal(action, file, self))


ACTIONS = ("edit", "submit", "approve", "reject", "cancel")


def permissions_for(file: FileEntry, user, *, submitted_by_id=_UNKNOWN) -> FilePermissions:
    """What ``user`` may do to ``file`` now.

    ``submitted_by_id``: who submitted the file's open review, when the caller has
    already read it (the Curate pane does); otherwise it is read here if needed.
    """
    locked_by_other = bool(file.locked and file.locked_by_id not in (None, user.pk))
    may_change = user.is_active and user.has_perm(CHANGE)
    edit = may_change and not locked_by_other
    in_review = file.review_state == ReviewState.IN_REVIEW
    if in_review and submitted_by_id is _UNKNOWN:
        state = file.current_workflow_state
        submitted_by_id = state.requested_by_id if state else None
    own = in_review and submitted_by_id is not None and submitted_by_id == user.pk
    review = in_review and not own and not locked_by_other and is_reviewer(user)
    why = ""
    if not may_change:
        why = "You do not have permission to change files."
    elif locked_by_other:
        why = f"{file.location} is locked by {file.locked_by}."
    return FilePermissions(
        edit=edit,
        submit=edit and can_submit(status=file.status, review_state=file.review_state),
        approve=review,
        reject=review,
        cancel=edit and in_review and (user.is_superuser or own),
        why_not_edit=why,
    )


def may_in_bulk(files: QuerySet[FileEntry], user, action: str) -> QuerySet[FileEntry]:
    """The files of ``files`` that ``user`` may ``action``: ``permissions_for``'s rules as
    one filter, so a bulk action over a million files never loads them."""
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}")
    if action in ("approve", "reject"):
        if not is_reviewer(user):
            return files.none()
        unlocked = ~Q(locked=True) | Q(locked_by=user)
        return files.filter(unlocked, review_state=ReviewState.IN_REVIEW).exclude(
            submitted_by(user)
        )
    if not (user.is_active and user.has_perm(CHANGE)):
        return files.none()
    editable = files.exclude(Q(locked=True) & ~Q(locked_by=user))
    match action:
        case "edit":
            return editable
        case "submit":
            return editable.filter(status__in=NEEDS_APPROVAL, review_state=ReviewState.DECIDED)
        case "cancel":
            in_review = editable.filter(review_state=ReviewState.IN_REVIEW)
            return in_review if user.is_superuser else in_review.filter(submitted_by(user))


def submitted_by(user) -> Q:
    """The file's open review was started by ``user``: one uncorrelated subquery of the
    user's open reviews (PostgreSQL hashes it), never a lookup per file."""
    file_type = ContentType.objects.get_for_model(FileEntry)
    own = (
        WorkflowState.objects.filter(
            base_content_type=file_type,
            status__in=[WorkflowState.STATUS_IN_PROGRESS, WorkflowState.STATUS_NEEDS_CHANGES],
            requested_by=user,
        )
        .annotate(file_id=Cast("object_id", BigIntegerField()))
        .values("file_id")
    )
    return Q(pk__in=own)


def _refusal(action: str, file: FileEntry, permissions: FilePermissions) -> str:
    if permissions.why_not_edit and action in ("edit", "submit", "cancel"):
        return permissions.why_not_edit
    match action:
        case "submit":
            return f"{file.location} cannot be submitted now."
        case "approve" | "reject":
            return (
                f"You cannot review {file.location}: it is not in review, it is your own "
                "submission, or you are not a reviewer."
            )
        case "cancel":
            return (
                f"Only the person who submitted {file.location} for review, or an "
                "administrator, can withdraw it."
            )
    return f"You may not {action} {file.location}."
