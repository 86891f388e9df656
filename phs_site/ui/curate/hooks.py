"""Registers Curate with the Wagtail admin: menu item, URLs, dashboard panels and summary.

Wagtail only auto-loads ``<app>/wagtail_hooks.py``; ``phs_site/ui/wagtail_hooks.py`` calls
``register()`` once.
"""

from django.urls import reverse
from wagtail import hooks
from wagtail.admin.menu import MenuItem

from ..dashboard.progress import dashboard_panels, summary_items
from .api import VIEW

_registered = False


class CurateMenuItem(MenuItem):
    def is_shown(self, request):
        return request.user.has_perm(VIEW)


def curate_menu_item():
    return CurateMenuItem(
        "Curate", reverse("phs_curate"), name="curate", icon_name="folder-open-inverse", order=150
    )


def curate_urls():
    from .urls import urlpatterns

    return urlpatterns


def register() -> None:
    """Add the hooks once, however many times it is called."""
    global _registered
    if _registered:
        return
    _registered = True
    hooks.register("register_admin_menu_item", curate_menu_item)
    hooks.register("register_admin_urls", curate_urls)
    hooks.register("construct_homepage_panels", dashboard_panels)
    # After Wagtail's own summary items (order 0), so it can take theirs out.
    hooks.register("construct_homepage_summary_items", summary_items, order=100)
