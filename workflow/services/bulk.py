"""Review actions on many files at once, done in sets rather than file by file.

Wagtail's own path (``Workflow.start``, ``TaskState.approve`` …) costs a dozen
queries and an e-mail per file; a 10,000-file submission would take minutes and
send 10,000 e-mails. These functions write the same rows Wagtail would — revisions,
workflow and task states, log entries — with bulk inserts and set-based updates in
chunks, apply ``workflow.states`` to whole sets, and send one digest per reviewer.
Each takes a queryset of files (a selection, a folder, a search result) and returns
a ``BulkResult`` saying how many were changed and why others were skipped: every file
of the selection that is left alone is counted under its true reason, found for the
whole selection by one grouped query (``_skip_by_reason``), never file by file.
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
from workflow.export.eligibility import UNIQUE_OSHASH_MIN_SIZE
from workflow.models import PadmaReviewTask, is_reviewer
from workflow.services import effects, permissions
from workflow.states import NEEDS_APPROVAL, Event, review_state_after, status_after

CHUNK = 1000


@dataclass
class BulkResult:
    changed: int = 0
    skipped: Counter = field(default_factory=Counter)
    #: What is worth knowing about some of the changed files ("never sent to pad.ma").
    notes: Counter = field(default_factory=Counter)
    #: What "changed" means for this action, for people: "submitted", "approved" …
    verb: str = "changed"

    def skip(self, reason: str, count: int) -> None:
        if count:
            self.skipped[reason] += count

    def note(self, text: str, count: int) -> None:
        if count:
            self.notes[text] += count

    def __str__(self):
        text = f"{self.changed:,} {self.verb}"
        if self.notes:
            text += " (" + ", ".join(f"{n:,} of them {note}" for note, n in self.notes.items())
            text += ")"
        for reason, count in self.skipped.items():
            text += f"; {count:,} skipped ({reason})"
        return text


#: Why a file is left alone, each a (reason, condition) for ``_skip_by_reason``.
IN_REVIEW = ("in review: cancel or decide the review first", Q(review_state=ReviewState.IN_REVIEW))
ALREADY_IN_REVIEW = ("already in review", Q(review_state=ReviewState.IN_REVIEW))
ALREADY_APPROVED = ("already approved", Q(review_state=ReviewState.APPROVED))
SENT_BACK = ("sent back to its curator", Q(review_state=ReviewState.REJECTED))
NOT_SUBMITTED = ("decided but not submitted for review", Q(review_state=ReviewState.DECIDED))
NOTHING_TO_REVIEW = (
    "nothing to review: not decided for upload or restricted",
    Q(review_state=ReviewState.NONE),
)

#: Approved files that pad.ma can never receive (``workflow.export.eligibility``'s
#: permanent refusals): no oshash, or under 8 bytes (their oshash is their size).
NEVER_SENT = (
    "will never be sent to pad.ma (no oshash, or under 8 bytes)",
    Q(oshash__isnull=True) | Q(oshash="") | Q(size__lt=UNIQUE_OSHASH_MIN_SIZE),
)


def _locked_by_other(user) -> tuple[str, Q]:
    """``permissions.may_in_bulk``'s lock rule, as a reason."""
    return ("locked by someone else", Q(locked=True) & ~Q(locked_by=user))


# ---------------------------------------------------------------- curator actions


@transaction.atomic
def set_status(files: QuerySet[FileEntry], *, status: str, user) -> BulkResult:
    """Give every file in ``files`` the decision ``status`` (as if each were saved)."""
    if status not in Status.values:
        raise ValueError(f"unknown status {status!r}")
    _require_change(user)
    result = BulkResult()
    label = Status(status).label
    targets, _count = _skip_by_reason(
        files,
        [_locked_by_other(user), (f"already {label}", Q(status=status)), IN_REVIEW],
        result,
    )
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
    _require_change(user)
    result = BulkResult()
    already = f"already in {project_group}" if project_group else "already without a group"
    targets, _count = _skip_by_reason(
        files, [_locked_by_other(user), (already, Q(project_group=project_group))], result
    )
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
    _require_change(user)
    result = BulkResult(verb="submitted")
    workflow = Workflow.objects.filter(workflow_content_types__content_type=_file_type()).first()
    if workflow is None or not workflow.active:
        raise ValueError("No active review workflow is assigned to files.")
    task = workflow.tasks.filter(active=True).first().specific
    ready, _count = _skip_by_reason(files, [_locked_by_other(user), *UNSUBMITTABLE], result)
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
        task_states = TaskState.objects.bulk_create(
            TaskState(
                workflow_state=state,
                revision=revisions[int(state.object_id)],
                task=task,
                status=TaskState.STATUS_IN_PROGRESS,
                content_type=task_state_type,
            )
            for state in states
        )
        # The ids came back from the inserts: no correlated lookup per workflow state
        # (which a fresh table's missing statistics made 0.8 s per 1,000 on PostgreSQL).
        for state, task_state in zip(states, task_states, strict=True):
            state.current_task_state = task_state
        WorkflowState.objects.bulk_update(states, ["current_task_state"])
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
    result = BulkResult(verb="approved")
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
        result.note(NEVER_SENT[0], FileEntry.objects.filter(NEVER_SENT[1], pk__in=ids).count())
        result.changed += len(ids)
    return result


@transaction.atomic
def reject(files: QuerySet[FileEntry], *, user, comment: str) -> BulkResult:
    """Send files back to their curators as *needs attention*, with the comment."""
    if not comment.strip():
        raise ValueError("Say what needs to change: a comment is required to reject.")
    result = BulkResult(verb="sent back")
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


def _require_change(user) -> None:
    if not user.has_perm(permissions.CHANGE):
        raise PermissionDenied("You do not have permission to change files.")


def _skip_by_reason(
    files: QuerySet[FileEntry], reasons: list[tuple[str, Q]], result: BulkResult
) -> tuple[QuerySet[FileEntry], int]:
    """Count every file of ``files`` that a reason rules out under the first reason that
    holds for it — one grouped query over the whole selection — and return the rest, and
    how many they are.

    The rest is selected by the negated conditions themselves, not by the CASE: the
    planner can use the indexes on plain conditions, where a CASE in a subquery made
    PostgreSQL compare every file with every open review (minutes at 10,000 files).
    """
    whens = [When(condition, then=Value(reason)) for reason, condition in reasons]
    classified = files.order_by().annotate(
        skip_reason=Case(*whens, default=Value(""), output_field=CharField())
    )
    remaining = 0
    for reason, n in classified.values_list("skip_reason").annotate(n=Count("pk")):
        if reason:
            result.skip(reason, n)
        else:
            remaining = n
    return files.filter(*(~condition for _reason, condition in reasons)), remaining


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
    locked by someone else, not their own submission — as reasons for the rest, then the
    open reviews of what is left that ``user``'s review task lets them decide.
    """
    if not is_reviewer(user):
        raise PermissionDenied("Only reviewers approve or reject files.")
    reasons = [
        ALREADY_APPROVED,
        SENT_BACK,
        NOT_SUBMITTED,
        NOTHING_TO_REVIEW,
        ("not in review", ~Q(review_state=ReviewState.IN_REVIEW)),
        _locked_by_other(user),
        ("your own submission", permissions.submitted_by(user)),
    ]
    _free, waiting = _skip_by_reason(files, reasons, result)
    # The open reviews are looked up from the plain rule (in review, not locked by
    # someone else): the review task's own query already leaves out ``user``'s own
    # submissions. A chunk of file ids at a time, as literals, through their workflow
    # states first: joining WorkflowState.object_id (text) to the file ids cast in a
    # subquery let PostgreSQL, with a bulk submit's rows not yet analysed, loop over
    # both sets (8-13 s at 10,000 files, quadratic beyond); starting from the task
    # states made each chunk read every task state of the task (SQLite, and PostgreSQL
    # at 50,000). This way each chunk's cost is its own (bench/bench_review.py).
    free = files.filter(review_state=ReviewState.IN_REVIEW).exclude(
        Q(locked=True) & ~Q(locked_by=user)
    )
    reviewable = PadmaReviewTask.objects.none()
    for task in PadmaReviewTask.objects.filter(active=True):
        reviewable = reviewable | task.get_task_states_user_can_moderate(user)
    file_type = _file_type()
    rows = []
    for ids in _chunks(free):
        open_workflows = WorkflowState.objects.filter(
            base_content_type=file_type,
            object_id__in=[str(pk) for pk in ids],
            status=WorkflowState.STATUS_IN_PROGRESS,
        )
        rows += [
            (ts_id, ws_id, int(object_id))
            for ts_id, ws_id, object_id in reviewable.filter(
                workflow_state__in=open_workflows.values("pk")
            ).values_list("pk", "workflow_state_id", "workflow_state__object_id")
        ]
    result.skip("not your review task", waiting - len(rows))
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
    ALREADY_IN_REVIEW,
    ("already approved: change it before submitting again", Q(review_state=ReviewState.APPROVED)),
    ("sent back by a reviewer: decide it again first", Q(review_state=ReviewState.REJECTED)),
    ("not decided for upload or restricted", ~Q(status__in=NEEDS_APPROVAL)),
    ("not ready for review", ~Q(review_state=ReviewState.DECIDED)),
]
