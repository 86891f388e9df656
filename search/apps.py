from django.apps import AppConfig


class SearchConfig(AppConfig):
    """Finding files across all drives: the index, the engine and the Find files view."""

    name = "search"
    label = "phs_search"
    verbose_name = "Search"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from . import signal_handlers

        signal_handlers.connect()
