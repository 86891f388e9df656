from django.apps import AppConfig


class UiConfig(AppConfig):
    """Curate, the dashboard and the catalog's admin (registered in ``wagtail_hooks``)."""

    name = "phs_site.ui"
    label = "phs_ui"
    verbose_name = "Interface"
