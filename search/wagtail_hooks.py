"""Registers Find files with the Wagtail admin: its URLs and a menu with saved searches."""

from django.urls import include, path, reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.menu import Menu, MenuItem, SubmenuMenuItem

from . import urls
from .views import VIEW_PERMISSION, saved_search_url, saved_searches_for


@hooks.register("register_admin_urls")
def search_admin_urls():
    return [path("find/", include(urls, namespace="phs_search"))]


class FindFilesMenu(Menu):
    """*New search*, then the user's saved searches (read once per request)."""

    def menu_items_for_request(self, request):
        if not request.user.has_perm(VIEW_PERMISSION):
            return []
        items = [MenuItem(_("New search"), reverse("phs_search:find"), icon_name="search")]
        items += [
            MenuItem(saved.name, saved_search_url(saved), icon_name="view", order=100 + n)
            for n, saved in enumerate(saved_searches_for(request))
        ]
        return items


@hooks.register("register_admin_menu_item")
def find_files_menu_item():
    return SubmenuMenuItem(
        _("Find files"), FindFilesMenu(), icon_name="search", name="find-files", order=150
    )
