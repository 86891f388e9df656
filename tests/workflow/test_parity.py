"""Every action leaves the same rows whether it is done to one file or in bulk.

Each test builds one situation, runs the single-file service on it, records what the
database (and the outbox) then holds, rolls back, runs the bulk service on the same
situation, and compares. What is compared: the file's decision columns, its review and
workflow state, folder counters, duplicate-group conflict flags, export requests, what
the search index finds, and the e-mails sent.
"""

from contextlib import contextmanager

import pytest
from django.core import mail
from django.db import transaction
from wagtail.models import TaskState, WorkflowState

from catalog.models import DuplicateGroup, FileEntry, Folder, ProjectGroup, ReviewState, Status
from search.finder import files_from_query_string
from tests.workflow.conftest import clip, make_group
from workflow.models import ExportRequest
from workflow.services import bulk, review

pytestmark = pytest.mark.django_db

FILE_COLUMNS = (
    "status",
    "review_state",
    "review_comment",
    "version",
    "live",
    "has_unpublished_changes",
    "reviewed_by_id",
    "project_group_id",
)


class _RollBack(Exception):
    pass


@contextmanager
def rolled_back():
    try:
        with transaction.atomic():
            yield
            raise _RollBack
    except _RollBack:
        pass


def snapshot(search_words: str = "") -> dict:
    object_ids = [str(pk) for pk in FileEntry.objects.values_list("pk", flat=True)]
    return {
        "files": sorted(FileEntry.objects.values_list("filename", *FILE_COLUMNS)),
        "workflows": sorted(
            WorkflowState.objects.filter(object_id__in=object_ids).values_list(
                "object_id", "status"
            )
        ),
        "tasks": sorted(
            TaskState.objects.filter(workflow_state__object_id__in=object_ids).values_list(
                "workflow_state__object_id", "status", "comment"
            )
        ),
        "folders": sorted(
            Folder.objects.values_list(
                "drive__name", "path", *(f"count_{status}" for status in Status.values)
            )
        ),
        "conflicts": sorted(DuplicateGroup.objects.values_list("oshash", "has_conflict")),
        "exports": sorted(ExportRequest.objects.values_list("file__filename", "state")),
        "found": sorted(
            files_from_query_string(f"q={search_words}").values_list("filename", flat=True)
        )
        if search_words
        else [],
        "mail": sorted((tuple(message.to), message.subject) for message in mail.outbox),
    }


def outcome(action, django_capture_on_commit_callbacks, search_words: str = "") -> dict:
    """What ``action`` leaves behind, with its after-commit work (e-mail) run; undone."""
    mail.outbox.clear()
    with rolled_back():
        with django_capture_on_commit_callbacks() as callbacks:
            action()
        for callback in callbacks:
            if "enqueue" not in getattr(callback, "__name__", ""):
                callback()
        result = snapshot(search_words)
    return result


@pytest.fixture
def same_both_ways(django_capture_on_commit_callbacks):
    """Assert that the single and the bulk action leave identical rows; return them."""

    def check(single, in_bulk, search_words: str = ""):
        one = outcome(single, django_capture_on_commit_callbacks, search_words)
        many = outcome(in_bulk, django_capture_on_commit_callbacks, search_words)
        assert one == many
        return one

    return check


@pytest.fixture
def files(import_files):
    return import_files([clip("a.mp4"), clip("b.mp4"), clip("c.mp4", path="2020")])


def by_name(name: str) -> FileEntry:
    return FileEntry.objects.get(filename=name)


def only(name: str):
    return FileEntry.objects.filter(filename=name)


def submitted(name, curator) -> FileEntry:
    file = review.save_decision(file=by_name(name), user=curator, changes={"status": "upload"})
    return review.submit_for_review(file=file, user=curator)


def test_set_status(files, curator, same_both_ways):
    rows = same_both_ways(
        lambda: review.save_decision(
            file=by_name("a.mp4"), user=curator, changes={"status": "upload"}
        ),
        lambda: bulk.set_status(only("a.mp4"), status="upload", user=curator),
    )
    assert ("a.mp4", "upload", ReviewState.DECIDED) in {r[:3] for r in rows["files"]}


def test_settling_a_conflict_releases_the_held_primary(
    import_files, curator, reviewer, same_both_ways
):
    """A primary approved for upload waits while a copy says discard; a copy changed
    to upload settles the group and the primary goes to the export queue."""
    primary, copy = import_files(
        [clip("a.mp4", oshash="00000000000000aa"), clip("b.mp4", oshash="00000000000000aa")]
    )
    make_group([primary, copy], primary=primary)
    review.save_decision(file=copy, user=curator, changes={"status": Status.DISCARD})
    submitted("a.mp4", curator)
    review.approve(file=by_name("a.mp4"), user=reviewer)
    assert not ExportRequest.objects.exists()  # held back by the conflict

    rows = same_both_ways(
        lambda: review.save_decision(
            file=by_name("b.mp4"), user=curator, changes={"status": "upload"}
        ),
        lambda: bulk.set_status(only("b.mp4"), status="upload", user=curator),
    )
    assert rows["conflicts"] == [("00000000000000aa", False)]
    assert rows["exports"] == [("a.mp4", "pending")]


def test_project_group_on_a_rejected_file(files, curator, reviewer, same_both_ways):
    """A rejected file given a project group is an ordinary decision again, both ways."""
    submitted("a.mp4", curator)
    review.reject(file=by_name("a.mp4"), user=reviewer, comment="Wrong date")
    group = ProjectGroup.objects.create(name="Jehangir Nicholson")

    rows = same_both_ways(
        lambda: review.save_decision(
            file=by_name("a.mp4"), user=curator, changes={"project_group": group}
        ),
        lambda: bulk.set_project_group(only("a.mp4"), project_group=group, user=curator),
        search_words="Jehangir",
    )
    (row,) = [r for r in rows["files"] if r[0] == "a.mp4"]
    assert row[1:4] == (Status.NEEDS_ATTENTION, ReviewState.NONE, "")
    assert rows["found"] == ["a.mp4"]


def test_project_group_on_an_approved_file(files, curator, reviewer, same_both_ways):
    submitted("a.mp4", curator)
    review.approve(file=by_name("a.mp4"), user=reviewer)
    group = ProjectGroup.objects.create(name="Jehangir Nicholson")
    rows = same_both_ways(
        lambda: review.save_decision(
            file=by_name("a.mp4"), user=curator, changes={"project_group": group}
        ),
        lambda: bulk.set_project_group(only("a.mp4"), project_group=group, user=curator),
    )
    (row,) = [r for r in rows["files"] if r[0] == "a.mp4"]
    assert row[2] == ReviewState.DECIDED  # approved metadata changed: approve again


def test_submit(files, curator, reviewer, same_both_ways):
    review.save_decision(file=by_name("a.mp4"), user=curator, changes={"status": "upload"})
    rows = same_both_ways(
        lambda: review.submit_for_review(file=by_name("a.mp4"), user=curator),
        lambda: bulk.submit(only("a.mp4"), user=curator),
    )
    assert rows["workflows"] and rows["mail"] == [
        ((reviewer.email,), "1 file is waiting for your review")
    ]


def test_approve(files, curator, reviewer, same_both_ways):
    submitted("a.mp4", curator)
    rows = same_both_ways(
        lambda: review.approve(file=by_name("a.mp4"), user=reviewer),
        lambda: bulk.approve(only("a.mp4"), user=reviewer),
    )
    assert rows["exports"] == [("a.mp4", "pending")]


def test_reject(import_files, curator, reviewer, same_both_ways):
    """Rejecting one copy of a group puts the group in conflict, both ways, and the
    curator hears of it once, with the comment."""
    first, second = import_files(
        [clip("a.mp4", oshash="00000000000000bb"), clip("b.mp4", oshash="00000000000000bb")]
    )
    make_group([first, second], primary=first)
    submitted("a.mp4", curator)
    submitted("b.mp4", curator)
    rows = same_both_ways(
        lambda: review.reject(file=by_name("a.mp4"), user=reviewer, comment="Wrong date"),
        lambda: bulk.reject(only("a.mp4"), user=reviewer, comment="Wrong date"),
    )
    assert rows["conflicts"] == [("00000000000000bb", True)]
    assert rows["mail"] == [((curator.email,), "1 file was sent back to you")]
