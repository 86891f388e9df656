"""Every review transition, through the services and through Wagtail's own workflow
machinery, asserting the status column, the review state and Wagtail's workflow state."""

import pytest
from django.core.exceptions import PermissionDenied
from wagtail.models import WorkflowState

from catalog.models import FileEntry, Folder, Status
from catalog.services.imports import import_manifest
from tests.conftest import entry
from workflow.models import ExportRequest
from workflow.services import review
from workflow.services.permissions import permissions_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def files(write_manifest):
    import_manifest(
        write_manifest([entry(f"clip{i}.mp4", "2019/rehearsal") for i in range(3)]),
        drive_name="Expansion",
    )
    return list(FileEntry.objects.order_by("filename"))


def state(file):
    file.refresh_from_db()
    workflow_state = WorkflowState.objects.filter(object_id=str(file.pk)).order_by("-pk").first()
    return file.status, file.review_state, workflow_state.status if workflow_state else None


def counts(file):
    folder = Folder.objects.get(drive=file.drive, path=file.path)
    return {k: v for k, v in folder.status_counts().items() if v}


def test_the_whole_walk(files, curator, reviewer):
    file = files[0]
    assert state(file) == ("unreviewed", "", None)
    assert file.live is False  # imported: nothing approved yet

    review.save_decision(file=file, user=curator, changes={"status": Status.UPLOAD, "title": "A"})
    assert state(file) == ("upload", "decided", None)
    assert file.reviewed_by == curator and file.version == 1
    assert counts(file) == {"unreviewed": 2, "upload": 1}

    review.submit_for_review(file=file, user=curator)
    assert state(file) == ("upload", "in_review", WorkflowState.STATUS_IN_PROGRESS)

    review.reject(file=file, user=reviewer, comment="Wrong title")
    assert state(file) == ("needs_attention", "rejected", WorkflowState.STATUS_NEEDS_CHANGES)
    assert file.review_comment == "Wrong title"
    assert counts(file) == {"unreviewed": 2, "needs_attention": 1}
    assert file.latest_revision.as_object().status == "needs_attention"  # the editor agrees

    review.save_decision(file=file, user=curator, changes={"status": Status.RESTRICTED})
    assert state(file) == ("restricted", "decided", WorkflowState.STATUS_NEEDS_CHANGES)
    assert file.review_comment == ""

    review.submit_for_review(file=file, user=curator)  # resumes the same review
    assert state(file) == ("restricted", "in_review", WorkflowState.STATUS_IN_PROGRESS)

    review.cancel_review(file=file, user=curator)
    assert state(file) == ("restricted", "decided", WorkflowState.STATUS_CANCELLED)

    review.submit_for_review(file=file, user=curator)
    review.approve(file=file, user=reviewer)
    assert state(file) == ("restricted", "approved", WorkflowState.STATUS_APPROVED)
    assert file.live and file.live_revision_id == file.latest_revision_id
    assert ExportRequest.objects.filter(file=file, state="pending").count() == 1

    # A later edit needs approval again; the approved version stays what is exported.
    approved_revision = file.live_revision_id
    review.save_decision(file=file, user=curator, changes={"title": "B"})
    assert state(file) == ("restricted", "decided", WorkflowState.STATUS_APPROVED)
    assert file.live_revision_id == approved_revision
    assert file.live_revision.as_object().title == "A"
    assert file.has_unpublished_changes


def test_discard_needs_no_review(files, curator):
    file = files[1]
    review.save_decision(file=file, user=curator, changes={"status": Status.DISCARD})
    assert state(file) == ("discard", "", None)
    with pytest.raises(review.ReviewError, match="only files decided for upload"):
        review.submit_for_review(file=file, user=curator)


def test_changing_a_decision_in_review_to_one_without_review_withdraws_it(files, curator):
    file = files[1]
    review.save_decision(file=file, user=curator, changes={"status": Status.UPLOAD})
    review.submit_for_review(file=file, user=curator)
    review.save_decision(file=file, user=curator, changes={"status": Status.KEEP_OFFLINE})
    assert state(file) == ("keep_offline", "", WorkflowState.STATUS_CANCELLED)


def test_editing_in_review_keeps_the_review(files, curator):
    file = files[1]
    review.save_decision(file=file, user=curator, changes={"status": Status.UPLOAD})
    review.submit_for_review(file=file, user=curator)
    review.save_decision(file=file, user=curator, changes={"title": "Better"})
    assert state(file) == ("upload", "in_review", WorkflowState.STATUS_IN_PROGRESS)


def test_four_eyes_even_for_a_reviewer_who_curates(files, make_user, reviewer):
    both = make_user("both", "Curators", "Reviewers")
    file = files[2]
    review.save_decision(file=file, user=both, changes={"status": Status.UPLOAD})
    review.submit_for_review(file=file, user=both)
    with pytest.raises(PermissionDenied, match="own submission"):
        review.approve(file=file, user=both)
    task_state = file.current_workflow_task_state
    assert task_state.task.specific.get_actions(file, both) == []
    assert not task_state.task.specific.get_task_states_user_can_moderate(both).exists()
    assert task_state.task.specific.get_task_states_user_can_moderate(reviewer).exists()
    review.approve(file=file, user=reviewer)
    assert state(file)[1] == "approved"


def test_curator_cannot_approve(files, curator, make_user):
    other = make_user("other", "Curators")
    file = files[2]
    review.save_decision(file=file, user=other, changes={"status": Status.UPLOAD})
    review.submit_for_review(file=file, user=other)
    with pytest.raises(PermissionDenied):
        review.approve(file=file, user=curator)
    assert state(file)[1] == "in_review"


@pytest.mark.parametrize("who", ["other curator", "reviewer", "operator"])
def test_only_the_submitter_or_a_superuser_withdraws_a_review(
    files, curator, reviewer, operator, admin_user, make_user, who
):
    file = files[2]
    review.save_decision(file=file, user=curator, changes={"status": Status.UPLOAD})
    review.submit_for_review(file=file, user=curator)
    someone = {
        "other curator": make_user("other", "Curators"),
        "reviewer": reviewer,
        "operator": operator,
    }[who]
    assert not permissions_for(state_of(file), someone).cancel
    with pytest.raises(PermissionDenied, match="Only the person who submitted"):
        review.cancel_review(file=file, user=someone)
    assert state(file) == ("upload", "in_review", WorkflowState.STATUS_IN_PROGRESS)

    assert permissions_for(state_of(file), admin_user).cancel
    review.cancel_review(file=file, user=admin_user)
    assert state(file) == ("upload", "decided", WorkflowState.STATUS_CANCELLED)
    review.submit_for_review(file=file, user=curator)
    review.cancel_review(file=file, user=curator)
    assert state(file) == ("upload", "decided", WorkflowState.STATUS_CANCELLED)


def test_rejecting_needs_a_comment(files, curator, reviewer):
    file = files[0]
    review.save_decision(file=file, user=curator, changes={"status": Status.UPLOAD})
    review.submit_for_review(file=file, user=curator)
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        review.reject(file=file, user=reviewer, comment="  ")


def test_stale_save_is_refused(files, curator, make_user):
    file = files[0]
    other = make_user("other", "Curators")
    review.save_decision(file=file, user=other, changes={"title": "Theirs"}, expected_version=0)
    with pytest.raises(review.VersionConflict, match="changed by other"):
        review.save_decision(file=file, user=curator, changes={"title": "Mine"}, expected_version=0)
    file.refresh_from_db()
    assert file.title == "Theirs"


def test_later_import_update_survives_approval(files, curator, reviewer, write_manifest):
    file = files[0]
    review.save_decision(file=file, user=curator, changes={"status": Status.UPLOAD})
    review.submit_for_review(file=file, user=curator)
    import_manifest(
        write_manifest([entry("clip0.mp4", "2019/rehearsal", size_exif=999_999)]),
        drive_name="Expansion",
        update=True,
    )
    review.approve(file=file, user=reviewer)
    file.refresh_from_db()
    assert file.size == 999_999  # publishing the revision did not roll the scan back
    assert file.status == "upload"


def test_conflicting_decisions_in_a_duplicate_group_are_flagged(write_manifest, curator, reviewer):
    from catalog.models import DuplicateGroup
    from catalog.services.duplicates import update_duplicates

    same = "feedfacefeedface"
    import_manifest(write_manifest([entry("a.mp4", "x", oshash=same)]), drive_name="A")
    import_manifest(write_manifest([entry("a.mp4", "y", oshash=same)], "B.json"), drive_name="B")
    update_duplicates()
    primary, spare = FileEntry.objects.order_by("-is_primary", "pk")
    assert primary.is_primary and not spare.is_primary
    review.save_decision(file=primary, user=curator, changes={"status": Status.UPLOAD})
    assert not DuplicateGroup.objects.get().has_conflict
    review.save_decision(file=spare, user=curator, changes={"status": Status.DISCARD})
    assert DuplicateGroup.objects.get().has_conflict
    review.submit_for_review(file=primary, user=curator)
    review.approve(file=primary, user=reviewer)
    assert not ExportRequest.objects.exists()  # held back until the conflict is settled
    review.save_decision(file=spare, user=curator, changes={"status": Status.UPLOAD})
    assert not DuplicateGroup.objects.get().has_conflict
    assert ExportRequest.objects.filter(file=primary).count() == 1  # released


def state_of(file):
    return FileEntry.objects.get(pk=file.pk)
