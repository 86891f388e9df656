from django.apps import AppConfig


class WorkflowConfig(AppConfig):
    """Moderation of catalog files and the pad.ma export (see docs/workflow.md)."""

    name = "workflow"
    verbose_name = "Workflow"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from . import signal_handlers

        signal_handlers.connect()
