"""The "pad.ma publication" workflow: one review task for the Reviewers group, on files."""

from django.db import migrations

WORKFLOW_NAME = "pad.ma publication"
TASK_NAME = "Reviewers approve for pad.ma"


def create_workflow(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Group = apps.get_model("auth", "Group")
    Workflow = apps.get_model("wagtailcore", "Workflow")
    WorkflowTask = apps.get_model("wagtailcore", "WorkflowTask")
    WorkflowContentType = apps.get_model("wagtailcore", "WorkflowContentType")
    PadmaReviewTask = apps.get_model("workflow", "PadmaReviewTask")

    task_type, _ = ContentType.objects.get_or_create(app_label="workflow", model="padmareviewtask")
    task = PadmaReviewTask.objects.filter(name=TASK_NAME).first()
    if task is None:
        task = PadmaReviewTask.objects.create(name=TASK_NAME, content_type=task_type, active=True)
    task.groups.add(Group.objects.get(name="Reviewers"))

    workflow, _ = Workflow.objects.get_or_create(name=WORKFLOW_NAME, defaults={"active": True})
    WorkflowTask.objects.get_or_create(workflow=workflow, task=task, defaults={"sort_order": 0})
    file_type, _ = ContentType.objects.get_or_create(app_label="catalog", model="fileentry")
    WorkflowContentType.objects.update_or_create(
        content_type=file_type, defaults={"workflow": workflow}
    )


def remove_workflow(apps, schema_editor):
    apps.get_model("wagtailcore", "Workflow").objects.filter(name=WORKFLOW_NAME).delete()
    apps.get_model("workflow", "PadmaReviewTask").objects.filter(name=TASK_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("workflow", "0001_initial"),
        ("catalog", "0003_review_and_export"),
        ("wagtailcore", "0001_initial"),
    ]

    operations = [migrations.RunPython(create_workflow, remove_workflow)]
