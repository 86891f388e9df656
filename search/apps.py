from django.apps import AppConfig


class SearchConfig(AppConfig):
    """Finding files across all drives (the engine arrives with its own issue)."""

    name = "search"
    label = "phs_search"
    verbose_name = "Search"
    default_auto_field = "django.db.models.BigAutoField"
