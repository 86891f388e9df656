"""Review actions on many files at once, done in sets rather than file by file.

Wagtail's own path (``Workflow.start``, ``TaskState.approve`` …) costs a dozen
queries and an e-mail per file; a 10,000-file submission would take minutes and
send 10,000 e-mails. These functions write the same rows Wagtail would — revisions,
workflow and task states, log entries — with bulk inserts and set-based updates in
chunks, apply ``workflow.states`` to whole sets, and send one digest per reviewer.
Each takes a queryset of files (a selection, a folder, a search result) and returns
a ``BulkResult`` saying how many were changed and why others were skipped.
"""

import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Case, CharField, Count, F, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import Cast, Coalesce
from django.utils import timezone
from wagtail.models import ModelLogEntry, Revision, TaskState, Workflow, WorkflowState

from catalog.models import FileEntry, ProjectGroup, ReviewState, Status, revision_content
from workflow.models import PadmaReviewTask, is_reviewer
from workflow.services import effects, permissions
from workflow.states import NEEDS_APPROVAL, Event, review_state_after, status_after

CHUNK = 1000


@dataclass
class BulkResult:
    changed: int = 0
    skipped: Counter = field(default_factory=Counter)

    def skip(self, reason: str, count: int) -> None:
        if count:
            self.skipped[reason] += count

    def __str__(self):
        text = f"{self.changed:,} changed"
        for reason, count in self.skipped.items():
            text += f"; {count:,} skipped ({reason})"
        return text


# ---------------------------------------------------------------- curator actions


@transaction.atomic
def set_status(files: QuerySet[FileEntry], *, status: str, user) -> BulkResult:
    """Give every file in ``files`` the decision ``status`` (as if each were saved)."""
    if status not in Status.values:
        raise ValueError(f"unknown status {status!r}")
    result = BulkResult()
    targets = _unlocked(files, user, result).exclude(status=status)
    in_review = targets.filter(review_state=ReviewState.IN_REVIEW)
    result.skip("in review: cancel or decide the review first", in_review.count())
    targets = targets.exclude(review_state=ReviewState.IN_REVIEW)
    now = timezone.now()
    for ids in _chunks(targets):
        chunk = FileEntry.objects.filter(pk__in=ids)
        moves = effects.moves_to(chunk, new_status=status)
        chunk.update(
            status=status,
            review_state=_review_state_after_save(status=Value(status)),
            review_comment="",
            reviewed_at=now,
            reviewed_by=user,
            version=F("version") + 1,
        )
        _save_revisions(ids, user=user, action="wagtail.edit")
        effects.decisions_saved(ids=ids, user=user, moves=moves, reindex=False)
        result.changed += len(ids)
    return result


@transaction.atomic
def set_project_group(
    files: QuerySet[FileEntry], *, project_group: ProjectGroup | None, user
) -> BulkResult:
    result = BulkResult()
    targets = _unlocked(files, user, result).exclude(project_group=project_group)
    now = timezone.now()
    for ids in _chunks(targets):
        # As a single save would: an approved file needs approval again, a rejected one's
        # review is over (workflow.states decides both, per file's status).
        FileEntry.objects.filter(pk__in=ids).update(
            project_group=project_group,
            review_state=_review_state_after_save(status=F("status")),
            review_comment="",
            reviewed_at=now,
            reviewed_by=user,
            version=F("version") + 1,
        )
        _save_revisions(ids, user=user, action="wagtail.edit")
        effects.decisions_saved(ids=ids, user=user, reindex=True)
        result.changed += len(ids)
    return result


@transaction.atomic
def submit(files: QuerySet[FileEntry], *, user) -> BulkResult:
    """Send every decided file to review, as one batch with one digest per reviewer."""
    result = BulkResult()
    workflow = Workflow.objects.filter(workflow_content_types__content_type=_file_type()).first()
    if workflow is None or not workflow.active:
        raise ValueError("No active review workflow is assigned to files.")
    task = workflow.tasks.filter(active=True).first().specific
    candidates = _unlocked(files, user, result)
    ready = candidates.filter(status__in=NEEDS_APPROVAL, review_state=ReviewState.DECIDED)
    _count_unsubmittable(candidates.exclude(pk__in=ready.values("pk")), result)
    now = timezone.now()
    file_type = _file_type()
    task_state_type = ContentType.objects.get_for_model(TaskState)
    for ids in _chunks(ready):
        object_ids = [str(pk) for pk in ids]
        # A rejected review still open ("needs changes") is closed before a new one.
        WorkflowState.objects.filter(
            base_content_type=file_type,
            object_id__in=object_ids,
            status__in=[WorkflowState.STATUS_IN_PROGRESS, WorkflowState.STATUS_NEEDS_CHANGES],
        ).update(status=WorkflowState.STATUS_CANCELLED)
        revisions = _save_revisions(ids, user=user, action=None)
        states = WorkflowState.objects.bulk_create(
            WorkflowState(
                content_type=file_type,
                base_content_type=file_type,
                object_id=str(pk),
                workflow=workflow,
                status=WorkflowState.STATUS_IN_PROGRESS,
                requested_by=user,
            )
            for pk in ids
        )
        TaskState.objects.bulk_create(
            TaskState(
                workflow_state=state,
                revision=revisions[int(state.object_id)],
                task=task,
                status=TaskState.STATUS_IN_PROGRESS,
                content_type=task_state_type,
            )
            for state in states
        )
        first_task_state = TaskState.objects.filter(workflow_state=OuterRef("pk")).order_by("pk")
        WorkflowState.objects.filter(pk__in=[state.pk for state in states]).update(
            current_task_state=Subquery(first_task_state.values("pk")[:1])
        )
        FileEntry.objects.filter(pk__in=ids).update(
            review_state=review_state_after(Event.SUBMITTED, status=Status.UPLOAD)
        )
        _log(
            ids,
            "wagtail.workflow.start",
            user=user,
            now=now,
            revisions=revisions,
            data={"workflow": {"id": workflow.pk, "title": workflow.name}},
        )
        result.changed += len(ids)
    effects.submitted(task=task, user=user, count=result.changed)
    return result


# --------------------------------------------------------------- reviewer actions


@transaction.atomic
def approve(files: QuerySet[FileEntry], *, user, comment: str = "") -> BulkResult:
    """Approve every file in review that ``user`` may review: publish and export them."""
    result = BulkResult()
    states = _reviewable_task_states(files, user, result)
    now = timezone.now()
    for chunk in _chunk_list(states):
        task_state_ids = [ts_id for ts_id, _ws, _pk in chunk]
        ids = [pk for _ts, _ws, pk in chunk]
        TaskState.objects.filter(pk__in=task_state_ids).update(
            status=TaskState.STATUS_APPROVED, finished_at=now, finished_by=user, comment=comment
        )
        WorkflowState.objects.filter(pk__in=[ws for _ts, ws, _pk in chunk]).update(
            status=WorkflowState.STATUS_APPROVED
        )
        # Publishing: the row already holds the latest revision's content (every
        # curator change writes both), so publishing makes that revision live.
        FileEntry.objects.filter(pk__in=ids).update(
            live=True,
            has_unpublished_changes=False,
            live_revision=F("latest_revision"),
            first_published_at=Coalesce(F("first_published_at"), now),
            last_published_at=now,
            review_state=_review_state_after_approval(),
            review_comment="",
        )
        _log(ids, "wagtail.workflow.approve", user=user, now=now, data={"comment": comment})
        _log(ids, "wagtail.publish", user=user, now=now)
        effects.approved(ids=ids, user=user)
        result.changed += len(ids)
    return result


@transaction.atomic
def reject(files: QuerySet[FileEntry], *, user, comment: str) -> BulkResult:
    """Send files back to their curators as *needs attention*, with the comment."""
    if not comment.strip():
        raise ValueError("Say what needs to change: a comment is required to reject.")
    result = BulkResult()
    states = _reviewable_task_states(files, user, result)
    now = timezone.now()
    for chunk in _chunk_list(states):
        ids = [pk for _ts, _ws, pk in chunk]
        TaskState.objects.filter(pk__in=[ts for ts, _ws, _pk in chunk]).update(
            status=TaskState.STATUS_REJECTED, finished_at=now, finished_by=user, comment=comment
        )
        WorkflowState.objects.filter(pk__in=[ws for _ts, ws, _pk in chunk]).update(
            status=WorkflowState.STATUS_NEEDS_CHANGES
        )
        rejected = FileEntry.objects.filter(pk__in=ids)
        new_status = status_after(Event.REJECTED, status=Status.UPLOAD)
        moves = effects.moves_to(rejected, new_status=new_status)
        submitters = _submitters(chunk)
        rejected.update(
            status=new_status,
            review_state=review_state_after(Event.REJECTED, status=Status.UPLOAD),
            review_comment=comment,
            version=F("version") + 1,
        )
        revisions = _save_revisions(ids, user=user, action=None)
        effects.rejected(ids=ids, user=user, moves=moves, comment=comment, submitters=submitters)
        _log(
            ids,
            "wagtail.workflow.reject",
            user=user,
            now=now,
            revisions=revisions,
            data={"comment": comment},
        )
        result.changed += len(ids)
    return result


# -------------------------------------------------------------------- helpers


def _file_type() -> ContentType:
    return ContentType.objects.get_for_model(FileEntry)


def _unlocked(files: QuerySet[FileEntry], user, result: BulkResult) -> QuerySet[FileEntry]:
    """The files ``user`` may edit (``permissions.may_in_bulk``); the rest are locked."""
    if not user.has_perm(permissions.CHANGE):
        raise PermissionDenied("You do not have permission to change files.")
    editable = permissions.may_in_bulk(files, user, "edit")
    result.skip("locked by someone else", files.count() - editable.count())
    return editable


def _chunks(files: QuerySet[FileEntry]) -> Iterator[list[int]]:
    """Primary keys in chunks, by keyset (no OFFSET, no list of every id in memory)."""
    last = 0
    while True:
        ids = list(files.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:CHUNK])
        if not ids:
            return
        yield ids
        last = ids[-1]


def _chunk_list(items: list) -> Iterator[list]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


def _reviewable_task_states(files, user, result: BulkResult) -> list[tuple[int, int, int]]:
    """(task state, workflow state, file) for files in review that ``user`` may review.

    ``permissions.may_in_bulk(…, "approve")``'s rule — a reviewer, the file in review, not
    locked by someone else, not their own submission — written here from the workflow
    side, where the open reviews are joined anyway (the review task's own query leaves
    out the reviewer's own submissions).
    """
    if not is_reviewer(user):
        raise PermissionDenied("Only reviewers approve or reject files.")
    in_review = files.filter(review_state=ReviewState.IN_REVIEW)
    waiting = in_review.count()
    result.skip("not in review", files.count() - waiting)
    unlocked = in_review.exclude(Q(locked=True) & ~Q(locked_by=user))
    free = unlocked.count()
    result.skip("locked by someone else", waiting - free)
    file_ids = unlocked.order_by().annotate(object_id=Cast("pk", CharField())).values("object_id")
    open_reviews = WorkflowState.objects.filter(
        base_content_type=_file_type(),
        status=WorkflowState.STATUS_IN_PROGRESS,
        object_id__in=file_ids,
    )
    own = open_reviews.filter(requested_by=user).count()
    result.skip("your own submission", own)
    reviewable = PadmaReviewTask.objects.none()
    for task in PadmaReviewTask.objects.filter(active=True):
        reviewable = reviewable | task.get_task_states_user_can_moderate(user)
    rows = [
        (ts_id, ws_id, int(object_id))
        for ts_id, ws_id, object_id in TaskState.objects.filter(
            pk__in=reviewable.values("pk"),
            workflow_state__base_content_type=_file_type(),
            workflow_state__status=WorkflowState.STATUS_IN_PROGRESS,
            workflow_state__object_id__in=file_ids,
        ).values_list("pk", "workflow_state_id", "workflow_state__object_id")
    ]
    result.skip("not your review task", free - own - len(rows))
    return rows


def _save_revisions(ids: list[int], *, user, action: str | None) -> dict[int, Revision]:
    """A revision per file holding its current decision, made latest; optionally logged.

    Built from column values (no model instances) and linked with one UPDATE.
    """
    file_type = _file_type()
    now = timezone.now()
    rows = FileEntry.objects.filter(pk__in=ids).values_list(
        "pk", "drive__name", "path", "filename", *REVISION_COLUMNS
    )
    revisions = Revision.objects.bulk_create(
        Revision(
            content_type=file_type,
            base_content_type=file_type,
            object_id=str(pk),
            created_at=now,
            user=user,
            content=revision_content(pk=pk, **dict(zip(REVISION_COLUMNS, values, strict=True))),
            object_str=f"{drive}:/{path}/{filename}" if path else f"{drive}:/{filename}",
        )
        for pk, drive, path, filename, *values in rows
    )
    latest = Revision.objects.filter(
        base_content_type=file_type, object_id=Cast(OuterRef("pk"), CharField())
    ).order_by("-pk")
    FileEntry.objects.filter(pk__in=ids).update(
        latest_revision=Subquery(latest.values("pk")[:1]), has_unpublished_changes=True
    )
    by_file = {int(revision.object_id): revision for revision in revisions}
    if action:
        _log(ids, action, user=user, now=now, revisions=by_file, content_changed=True)
    return by_file


#: The columns ``revision_content`` takes, by the same names.
REVISION_COLUMNS = ["status", "title", "description", "project_group_id", "date", "notes"]


def _log(
    ids: list[int],
    action: str,
    *,
    user,
    now,
    revisions: dict[int, Revision] | None = None,
    data: dict | None = None,
    content_changed: bool = False,
) -> None:
    batch = uuid.uuid4()
    labels = dict(
        FileEntry.objects.filter(pk__in=ids).select_related("drive").values_list("pk", "filename")
    )
    ModelLogEntry.objects.bulk_create(
        ModelLogEntry(
            content_type=_file_type(),
            object_id=str(pk),
            label=labels.get(pk, str(pk)),
            action=action,
            data=data or {},
            timestamp=now,
            uuid=batch,
            user=user,
            revision=(revisions or {}).get(pk),
            content_changed=content_changed,
        )
        for pk in ids
    )


def _review_state_after_save(*, status) -> Case:
    """``workflow.states``' answer for a save, as SQL over each row's review state.

    ``status`` is the new status: a ``Value`` (one for all rows) or ``F("status")``.
    """
    in_review = Q(review_state=ReviewState.IN_REVIEW)
    values = [status.value] if isinstance(status, Value) else Status.values
    whens = []
    for value in values:
        same = Q() if isinstance(status, Value) else Q(status=value)
        for flag, condition in ((True, in_review), (False, ~in_review)):
            answer = review_state_after(Event.SAVED, status=value, in_review=flag)
            whens.append(When(same & condition, then=Value(answer)))
    return Case(*whens, default=Value(ReviewState.NONE))


def _review_state_after_approval() -> Case:
    return Case(
        *(
            When(status=value, then=Value(review_state_after(Event.APPROVED, status=value)))
            for value in Status.values
        ),
        default=Value(ReviewState.NONE),
    )


def _submitters(chunk: list[tuple[int, int, int]]) -> dict:
    """Who submitted the files of a chunk of (task state, workflow state, file) rows,
    as {user: [file locations]} for the rejection e-mail."""
    file_of_state = {ws: pk for _ts, ws, pk in chunk}
    locations = {
        pk: f"{drive}:/{path}/{name}" if path else f"{drive}:/{name}"
        for pk, drive, path, name in FileEntry.objects.filter(
            pk__in=file_of_state.values()
        ).values_list("pk", "drive__name", "path", "filename")
    }
    by_submitter: dict = {}
    states = WorkflowState.objects.filter(pk__in=file_of_state).select_related("requested_by")
    for state in states:
        by_submitter.setdefault(state.requested_by, []).append(locations[file_of_state[state.pk]])
    return by_submitter


#: Why a file cannot be submitted, tried in this order (the first that holds is counted).
UNSUBMITTABLE = [
    ("already in review", Q(review_state=ReviewState.IN_REVIEW)),
    ("already approved: change it before submitting again", Q(review_state=ReviewState.APPROVED)),
    ("not decided for upload or restricted", ~Q(status__in=NEEDS_APPROVAL)),
]


def _count_unsubmittable(files: QuerySet[FileEntry], result: BulkResult) -> None:
    """Count each file that cannot be submitted under its true reason (one query)."""
    whens = [When(condition, then=Value(reason)) for reason, condition in UNSUBMITTABLE]
    reasons = (
        files.order_by()
        .annotate(reason=Case(*whens, default=Value("not ready for review")))
        .values_list("reason")
        .annotate(n=Count("pk"))
    )
    for reason, n in reasons:
        result.skip(reason, n)
