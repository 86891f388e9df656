"""Operators and Reviewers may view the pad.ma export report (batches and requests)."""

from django.db import migrations

VIEWERS = ("Operators", "Reviewers")
CODENAMES = ("view_exportbatch", "view_exportrequest")


def grant(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    # Permissions are normally created after migrations; make sure these exist now.
    app_config = apps.get_app_config("workflow")
    app_config.models_module = True
    create_permissions(app_config, verbosity=0)
    app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    permissions = Permission.objects.filter(
        content_type__app_label="workflow", codename__in=CODENAMES
    )
    for group in Group.objects.filter(name__in=VIEWERS):
        group.permissions.add(*permissions)


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    permissions = Permission.objects.filter(
        content_type__app_label="workflow", codename__in=CODENAMES
    )
    for group in Group.objects.filter(name__in=VIEWERS):
        group.permissions.remove(*permissions)


class Migration(migrations.Migration):
    dependencies = [
        ("workflow", "0003_export_outbox"),
        ("catalog", "0002_roles"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
