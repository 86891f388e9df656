"""Bulk messages count each file left alone under its true reason, found for the whole
selection by one grouped query."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.models import FileEntry, ProjectGroup, Status
from catalog.services.imports import import_manifest
from tests.conftest import entry
from workflow.services import bulk

pytestmark = pytest.mark.django_db


@pytest.fixture
def mixed(write_manifest, curator, reviewer, make_user):
    """Files in every situation, by folder: each folder is one reason."""
    folders = ["fresh", "decided", "review", "approved", "back", "discard", "locked", "tiny"]
    entries = [entry(f"{name}{i}.jpg", name) for name in folders for i in range(3)]
    entries[-3:] = [entry(f"tiny{i}.txt", "tiny", size_exif=i + 2) for i in range(3)]
    import_manifest(write_manifest(entries), drive_name="Mixed")
    files = FileEntry.objects.all()

    def folder(name):
        return files.filter(path=name)

    for name in ("decided", "review", "approved", "back", "tiny"):
        bulk.set_status(folder(name), status=Status.UPLOAD, user=curator)
    for name in ("review", "approved", "back"):
        bulk.submit(folder(name), user=curator)
    bulk.approve(folder("approved"), user=reviewer)
    bulk.reject(folder("back"), user=reviewer, comment="Titles")
    bulk.set_status(folder("discard"), status=Status.DISCARD, user=curator)
    someone = make_user("someone", "Curators")
    folder("locked").update(locked=True, locked_by=someone)
    return files


def test_submit_names_every_reason(mixed, curator):
    result = bulk.submit(mixed, user=curator)
    assert result.changed == 6  # decided/ and tiny/
    assert result.skipped == {
        "already in review": 3,
        "already approved: change it before submitting again": 3,
        "sent back by a reviewer: decide it again first": 3,
        "not decided for upload or restricted": 6,  # fresh/ (unreviewed) and discard/
        "locked by someone else": 3,
    }
    assert str(result).startswith("6 submitted; ")
    assert "3 skipped (already in review)" in str(result)


def test_approve_names_every_reason_and_what_will_never_reach_pad_ma(mixed, curator, reviewer):
    bulk.submit(mixed.filter(path__in=["decided", "tiny"]), user=curator)
    mixed.filter(path="decided").update(locked=True, locked_by=curator)
    result = bulk.approve(mixed, user=reviewer)
    assert result.changed == 6  # review/ and tiny/
    assert result.skipped == {
        "already approved": 3,
        "sent back to its curator": 3,
        "nothing to review: not decided for upload or restricted": 9,  # fresh, discard, locked
        "locked by someone else": 3,
    }
    assert result.notes == {"will never be sent to pad.ma (no oshash, or under 8 bytes)": 3}
    assert str(result).startswith(
        "6 approved (3 of them will never be sent to pad.ma (no oshash, or under 8 bytes)); "
    )


def test_own_submissions_and_files_not_yet_submitted(mixed, curator, make_user):
    both = make_user("both", "Curators", "Reviewers")
    mine = mixed.filter(path="decided")
    bulk.submit(mine, user=both)
    result = bulk.reject(mixed.filter(path__in=["decided", "tiny"]), user=both, comment="x")
    assert result.changed == 0
    assert result.skipped == {"your own submission": 3, "decided but not submitted for review": 3}


def test_set_status_and_group_count_what_already_had_it(mixed, curator):
    result = bulk.set_status(
        mixed.filter(path__in=["fresh", "discard", "review"]), status=Status.DISCARD, user=curator
    )
    assert result.changed == 3
    assert result.skipped == {
        "already Discard": 3,
        "in review: cancel or decide the review first": 3,
    }
    group = ProjectGroup.objects.create(name="Rehearsals")
    bulk.set_project_group(mixed.filter(path="fresh"), project_group=group, user=curator)
    result = bulk.set_project_group(
        mixed.filter(path__in=["fresh", "discard"]), project_group=group, user=curator
    )
    assert result.changed == 3 and result.skipped == {"already in Rehearsals": 3}


def test_the_reasons_are_one_query_however_many_files(write_manifest, curator):
    import_manifest(write_manifest([entry(f"f{i}.jpg", "a") for i in range(400)]), drive_name="B")
    files = FileEntry.objects.all()
    with CaptureQueriesContext(connection) as queries:
        bulk.submit(files, user=curator)  # nothing is ready: every file is a reason
    grouped = [q for q in queries.captured_queries if "GROUP BY" in q["sql"]]
    assert len(grouped) == 1
    assert len(queries) < 10
