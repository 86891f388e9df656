"""The outbox: ``request_exports`` records pending requests in sets, once per file."""

from datetime import timedelta

import pytest
from django.db.models import F
from wagtail.models import Revision

from catalog.models import FileEntry, ReviewState, Status
from workflow.export import requests as export_requests
from workflow.export.requests import request_exports, summarize_requests
from workflow.export.status import export_backlog
from workflow.models import ExportRequest

from .conftest import clip, make_group

pytestmark = pytest.mark.django_db


def test_only_approved_files_decided_for_pad_ma_are_queued(import_files, approve, decide):
    files = import_files([clip(f"{i}.mp4") for i in range(5)])
    approve(files[:2])
    approve(files[2:3], status=Status.RESTRICTED)
    decide(files[3:4], status=Status.KEEP_OFFLINE)  # needs no review: never approved
    decide(files[4:5])  # decided for upload, not yet approved

    queued = ExportRequest.objects.order_by("file_id")
    assert [r.file_id for r in queued] == [f.pk for f in files[:3]]  # by the approvals
    assert all(r.state == "pending" and r.revision_id for r in queued)
    summary = summarize_requests(files)
    assert (summary.created, summary.already_pending, summary.not_exportable) == (0, 3, 2)


def test_a_file_with_a_pending_request_gets_no_second(import_files, approve, reviewer):
    files = approve(import_files([clip("a.mp4")]))
    assert ExportRequest.objects.get().requested_by == reviewer  # queued by the approval
    assert request_exports(files, user=reviewer) == 0
    assert request_exports([files[0].pk]) == 0
    ExportRequest.objects.update(state="done")
    assert request_exports(files) == 1  # approved again after the export: queued again
    assert ExportRequest.objects.filter(state="pending").count() == 1


def test_spare_copies_and_conflicting_groups_are_counted_not_queued(import_files, approve):
    files = import_files(
        [
            clip("main.mp4", "a", oshash="1111111111111111"),
            clip("copy.mp4", "b", oshash="1111111111111111"),
            clip("x.mp4", "a", oshash="2222222222222222"),
            clip("y.mp4", "b", oshash="2222222222222222"),
        ]
    )
    by_name = {f.filename: f for f in files}
    make_group([by_name["main.mp4"], by_name["copy.mp4"]], primary=by_name["main.mp4"])
    make_group([by_name["x.mp4"], by_name["y.mp4"]], primary=by_name["x.mp4"])
    approve([by_name["y.mp4"]], status=Status.RESTRICTED)
    approve([by_name["main.mp4"], by_name["copy.mp4"], by_name["x.mp4"]])  # x and y disagree

    assert ExportRequest.objects.get().file == by_name["main.mp4"]  # the approval's
    summary = summarize_requests(FileEntry.objects.all())
    assert (summary.created, summary.already_pending) == (0, 1)
    assert (summary.spare_copies, summary.conflicting) == (1, 2)


def test_ten_thousand_ids_in_a_bounded_number_of_queries(
    import_files, reviewer, django_assert_max_num_queries, django_capture_on_commit_callbacks
):
    import_files([clip(f"{i:05}.mp4", f"d{i % 20}") for i in range(10_000)])
    one = FileEntry.objects.order_by("pk").first()
    one.save_revision(user=reviewer)
    revision = Revision.objects.get()
    FileEntry.objects.update(
        status=Status.UPLOAD, review_state=ReviewState.APPROVED, live_revision=revision
    )
    ids = list(FileEntry.objects.values_list("pk", flat=True))
    FileEntry.objects.filter(pk__in=ids[:100]).update(status=Status.DISCARD)

    # 2 chunks of 5,000 ids: one select each (every row judged by the one rule in
    # Python), then the inserts of 1,000 rows.
    with django_capture_on_commit_callbacks() as callbacks, django_assert_max_num_queries(12):
        created = request_exports(ids, user=reviewer)
    assert created == 9_900 and ExportRequest.objects.count() == 9_900
    assert len(callbacks) == 1  # one export task, however many chunks

    with django_assert_max_num_queries(10):
        assert request_exports(FileEntry.objects.all()) == 0  # a queryset: one subquery


def test_the_export_is_enqueued_once_per_transaction(
    import_files, approve, monkeypatch, django_capture_on_commit_callbacks
):
    files = import_files([clip("a.mp4"), clip("b.mp4")])
    enqueued = []
    monkeypatch.setattr(export_requests, "_enqueue_export", lambda: enqueued.append(1))
    with django_capture_on_commit_callbacks(execute=True):
        approve(files[:1])
        approve(files[1:])
        assert ExportRequest.objects.count() == 2
        assert enqueued == []  # nothing before the commit
    assert enqueued == [1]


def test_enqueue_runs_after_commit_and_without_credentials_does_nothing(
    import_files, approve, django_capture_on_commit_callbacks, settings, caplog
):
    settings.PADMA_USERNAME = ""
    files = import_files([clip("a.mp4")])
    with django_capture_on_commit_callbacks(execute=True):
        approve(files)
    assert ExportRequest.objects.get().state == "pending"  # waits for credentials
    assert "pad.ma export not run (PADMA_USERNAME and PADMA_PASSWORD are not set)" in caplog.text


def test_export_backlog(import_files, approve, django_assert_num_queries):
    assert export_backlog() == {"pending": 0, "oldest_pending_age_seconds": None, "failed": 0}
    files = approve(import_files([clip(f"{i}.mp4") for i in range(3)]))
    ExportRequest.objects.filter(file=files[0]).update(state="failed")
    ExportRequest.objects.filter(file=files[1]).update(
        requested_at=F("requested_at") - timedelta(hours=2)
    )
    with django_assert_num_queries(1):
        backlog = export_backlog()
    assert backlog["pending"] == 2 and backlog["failed"] == 1
    assert 7200 <= backlog["oldest_pending_age_seconds"] < 7300
