"""Bulk review actions at 10,000 files: set-based, permission-checked, and honouring
the listing's filters on *select all*."""

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test.utils import CaptureQueriesContext
from wagtail.models import ModelLogEntry, Revision, TaskState, WorkflowState

from catalog.models import FileEntry, Folder, ProjectGroup, ReviewState, Status
from catalog.services.imports import import_manifest
from tests.conftest import entry
from workflow.models import ExportRequest
from workflow.services import bulk

pytestmark = pytest.mark.django_db

MANY = 10_000
#: Files per folder "batch/N" in the smaller fixture the other tests use.
PER_FOLDER = 25


def import_files(write_manifest, count):
    entries = [
        entry(f"f{i:05}.jpg", f"batch/{i % 20}", oshash=f"{i + 1:016x}") for i in range(count)
    ]
    import_manifest(write_manifest(entries), drive_name="Big")
    return FileEntry.objects.all()


@pytest.fixture
def many(write_manifest):
    return import_files(write_manifest, 20 * PER_FOLDER)


def test_ten_thousand_files_through_the_whole_review(write_manifest, curator, reviewer):
    many = import_files(write_manifest, MANY)
    with CaptureQueriesContext(connection) as decide_queries:
        result = bulk.set_status(many, status=Status.UPLOAD, user=curator)
    assert result.changed == MANY
    assert FileEntry.objects.filter(status="upload", review_state="decided").count() == MANY
    root = Folder.objects.get(path="")
    assert (root.count_upload, root.count_unreviewed) == (MANY, 0)
    assert Folder.objects.get(path="batch/3").count_upload == MANY // 20
    assert Revision.objects.count() == MANY
    assert len(decide_queries) < 200  # chunks of 1,000, not a query per file

    with CaptureQueriesContext(connection) as submit_queries:
        result = bulk.submit(many, user=curator)
    assert result.changed == MANY
    assert WorkflowState.objects.filter(status="in_progress").count() == MANY
    assert TaskState.objects.filter(status="in_progress").count() == MANY
    assert FileEntry.objects.filter(review_state="in_review").count() == MANY
    assert len(submit_queries) < 200

    half = many.filter(path__in=[f"batch/{i}" for i in range(10)])
    result = bulk.reject(half, user=reviewer, comment="Titles missing")
    assert result.changed == MANY // 2
    assert FileEntry.objects.filter(status="needs_attention", review_state="rejected").count() == (
        MANY // 2
    )
    assert Folder.objects.get(path="").count_needs_attention == MANY // 2

    with CaptureQueriesContext(connection) as approve_queries:
        result = bulk.approve(many, user=reviewer)
    assert result.changed == MANY // 2
    assert result.skipped == {"sent back to its curator": MANY // 2}
    approved = FileEntry.objects.filter(review_state=ReviewState.APPROVED)
    assert approved.count() == MANY // 2
    assert approved.filter(live=True, live_revision_id=models_F("latest_revision_id")).count() == (
        MANY // 2
    )
    assert ExportRequest.objects.filter(state="pending").count() == MANY // 2
    assert ModelLogEntry.objects.filter(action="wagtail.publish").count() == MANY // 2
    assert len(approve_queries) < 200


def models_F(name):
    from django.db.models import F

    return F(name)


def test_four_eyes_in_bulk(many, make_user):
    both = make_user("both", "Curators", "Reviewers")
    some = many.filter(path="batch/1")
    bulk.set_status(some, status=Status.RESTRICTED, user=both)
    bulk.submit(some, user=both)
    result = bulk.approve(some, user=both)
    assert result.changed == 0
    assert result.skipped == {"your own submission": PER_FOLDER}
    assert not FileEntry.objects.filter(review_state="approved").exists()


def test_curator_cannot_approve_in_bulk(many, curator, make_user):
    other = make_user("other", "Curators")
    some = many.filter(path="batch/2")
    bulk.set_status(some, status=Status.UPLOAD, user=other)
    bulk.submit(some, user=other)
    with pytest.raises(PermissionDenied, match="Only reviewers"):
        bulk.approve(some, user=curator)
    assert not some.filter(review_state="approved").exists()


def test_submit_skips_what_needs_no_review(many, curator):
    some = many.filter(path="batch/4")
    bulk.set_status(some, status=Status.DISCARD, user=curator)
    result = bulk.submit(some, user=curator)
    assert result.changed == 0
    assert result.skipped == {"not decided for upload or restricted": PER_FOLDER}


def test_project_group_in_bulk_reopens_approved_files(many, curator, reviewer):
    some = many.filter(path="batch/5")
    bulk.set_status(some, status=Status.UPLOAD, user=curator)
    bulk.submit(some, user=curator)
    bulk.approve(some, user=reviewer)
    group = ProjectGroup.objects.create(name="Rehearsals")
    assert bulk.set_project_group(some, project_group=group, user=curator).changed == PER_FOLDER
    assert set(some.values_list("review_state", flat=True)) == {"decided"}
    assert set(some.values_list("project_group", flat=True)) == {group.pk}


def test_locked_files_are_skipped(many, curator, reviewer):
    locked = many.filter(path="batch/6")
    locked.update(locked=True, locked_by=reviewer)
    result = bulk.set_status(many.filter(path="batch/6"), status=Status.UPLOAD, user=curator)
    assert result.changed == 0 and result.skipped == {"locked by someone else": PER_FOLDER}


# The admin's bulk action views.

URL = "/admin/bulk/catalog/fileentry/{action}/"
LISTING = "/admin/snippets/catalog/fileentry/"


def test_select_all_honours_the_listing_filters(client, many, curator):
    client.force_login(curator)
    next_url = f"{LISTING}?q=batch%2F7&status=unreviewed"
    url = URL.format(action="set_status") + "?id=all&next=" + next_url.replace("&", "%26")
    page = client.get(url)
    assert page.status_code == 200
    assert page.context["count"] == PER_FOLDER
    response = client.post(url, {"status": Status.KEEP_OFFLINE})
    assert response.status_code == 302
    assert many.filter(status="keep_offline").count() == PER_FOLDER
    assert set(many.filter(status="keep_offline").values_list("path", flat=True)) == {"batch/7"}


def test_selected_ids(client, many, curator):
    client.force_login(curator)
    ids = list(many.values_list("pk", flat=True)[:3])
    url = URL.format(action="set_status") + "?" + "&".join(f"id={i}" for i in ids)
    assert client.post(url, {"status": Status.UPLOAD}).status_code == 302
    assert many.filter(status="upload").count() == 3


def test_curator_cannot_use_reviewer_actions(client, many, curator, reviewer):
    client.force_login(curator)
    url = URL.format(action="approve") + "?id=all"
    response = client.get(url)
    assert response.status_code in (302, 403)
    client.force_login(reviewer)
    assert client.get(url).status_code == 200


def test_anonymous_gets_login(client, many):
    response = client.get(URL.format(action="set_status") + "?id=all")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_reject_needs_a_comment_in_the_form(client, many, curator, reviewer):
    some = many.filter(path="batch/8")
    bulk.set_status(some, status=Status.UPLOAD, user=curator)
    bulk.submit(some, user=curator)
    client.force_login(reviewer)
    url = URL.format(action="reject") + "?id=all&next=" + f"{LISTING}?q=batch%2F8"
    response = client.post(url, {"comment": ""})
    assert response.status_code == 200  # the form again, with its error
    assert some.filter(review_state="in_review").count() == PER_FOLDER
    client.post(url, {"comment": "Check the dates"})
    assert some.filter(review_state="rejected").count() == PER_FOLDER


def test_large_selections_are_queued_as_a_task(client, many, curator, settings):
    settings.PHS_BULK_INLINE_LIMIT = 10
    client.force_login(curator)
    url = URL.format(action="set_status") + "?id=all&next=" + f"{LISTING}?q=batch%2F9"
    response = client.post(url, {"status": Status.DISCARD}, follow=True)
    assert f"{PER_FOLDER} files queued" in response.content.decode()
    # The immediate task backend (tests) ran it once the request's work committed.
    assert many.filter(status="discard").count() == PER_FOLDER
