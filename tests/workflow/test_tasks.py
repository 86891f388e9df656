"""One TASKS setting for both task frameworks: Wagtail's tasks (the ``django_tasks``
backport) and the export task (Django's ``django.tasks``), inline and in the database."""

import django.tasks
import django_tasks
import pytest
from django.core.management import call_command
from django.test import override_settings
from django_tasks_db.models import DBTaskResult
from wagtail.tasks import update_reference_index_task

from catalog.models import FileEntry
from workflow.models import ExportRequest
from workflow.tasks import export_pending

from .conftest import clip

pytestmark = pytest.mark.django_db

DATABASE = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def test_both_frameworks_use_the_configured_backend():
    assert type(django.tasks.task_backends["default"]).__name__ == "ImmediateBackend"
    assert type(django_tasks.task_backends["default"]).__name__ == "ImmediateBackend"
    # Wagtail's tasks are Django's tasks once the backend is a django.tasks backend.
    assert isinstance(update_reference_index_task, django.tasks.Task)


def test_inline_wagtail_task_and_export_task_both_run(padma, import_files, approve):
    file = import_files([clip("a.mp4")])[0]
    result = update_reference_index_task.enqueue("catalog", "fileentry", file.pk)
    assert result.status == "SUCCESSFUL"

    approve([file])
    result = export_pending.enqueue()
    assert result.status == "SUCCESSFUL" and result.return_value["exported"] == 1
    assert ExportRequest.objects.get().state == "done"


# serialized_rollback: the roles (groups, permissions) the migrations made come back after
# an earlier transactional test's flush; the approvals check them.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_database_backend_queues_both_for_db_worker(padma, import_files, approve):
    file = import_files([clip("a.mp4")])[0]
    approve([file])  # autocommit: the approval's export task is enqueued inline, and runs
    ExportRequest.objects.update(state="pending", padma_id="")
    FileEntry.objects.update(padma_id="")
    with override_settings(TASKS=DATABASE):
        # Wagtail's task resolves its backend through django.tasks at enqueue time.
        assert type(update_reference_index_task.get_backend()).__name__ == "DatabaseBackend"
        wagtail_result = update_reference_index_task.enqueue("catalog", "fileentry", file.pk)
        export_result = export_pending.enqueue()
        assert DBTaskResult.objects.filter(status="READY").count() == 2

        call_command("db_worker", batch=True, no_startup_delay=True, verbosity=0)

        wagtail_result.refresh()
        export_result.refresh()
        assert wagtail_result.status == "SUCCESSFUL"
        assert export_result.status == "SUCCESSFUL", export_result.errors
        assert export_result.return_value["exported"] == 1
    assert ExportRequest.objects.get().state == "done"


def test_without_credentials_the_task_leaves_requests_waiting(import_files, approve, settings):
    settings.PADMA_USERNAME = ""
    approve(import_files([clip("a.mp4")]))
    result = export_pending.enqueue()
    assert result.return_value["not_run"] == "PADMA_USERNAME and PADMA_PASSWORD are not set"
    assert result.return_value["pending"] == 1


# serialized_rollback: the roles (groups, permissions) the migrations made come back after
# an earlier transactional test's flush; the approvals check them.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_one_waiting_export_task_serves_many_approvals(padma, import_files, approve):
    files = import_files([clip("a.mp4"), clip("b.mp4"), clip("c.mp4")])
    with override_settings(TASKS=DATABASE):
        for file in files:  # three approvals, three commits, while no worker runs
            approve([file])
        waiting = DBTaskResult.objects.filter(task_path="workflow.tasks.export_pending")
        assert waiting.filter(status="READY").count() == 1
        assert ExportRequest.objects.filter(state="pending").count() == 3

        call_command("db_worker", batch=True, no_startup_delay=True, verbosity=0)
        assert ExportRequest.objects.filter(state="done").count() == 3
        # Once it has run, the next approval queues a new one.
        FileEntry.objects.filter(pk=files[0].pk).update(padma_id="")
        approve([import_files([clip("d.mp4")])[0]])
        assert waiting.filter(status="READY").count() == 1
