"""Registers the interface with the Wagtail admin: the catalog's snippets (viewsets.py),
its bulk actions and Make primary, Curate (curate/), and the dashboard panels in order —
progress first, then the reviewers' queue."""

from django.templatetags.static import static
from django.urls import path
from django.utils.html import format_html
from wagtail import hooks
from wagtail.permissions import register_permission_policy
from wagtail.snippets.models import register_snippet

from catalog import views
from catalog.admin_views import PermissionPolicyWithout
from catalog.bulk_actions import DeleteDrivesBulkAction, MakePrimaryBulkAction

from .curate.hooks import register as register_curate
from .dashboard.review import review_panels
from .editor import catalogue_action_menu
from .viewsets import ADMIN_NEVER, CatalogViewSetGroup

for model, never in ADMIN_NEVER.items():
    register_permission_policy(model, PermissionPolicyWithout(model, never=never), exact_class=True)
register_snippet(CatalogViewSetGroup)
register_curate()
hooks.register("construct_homepage_panels", review_panels)
hooks.register("construct_snippet_action_menu", catalogue_action_menu)
hooks.register("register_bulk_action", MakePrimaryBulkAction)
hooks.register("register_bulk_action", DeleteDrivesBulkAction, order=1)  # after Wagtail's


@hooks.register("register_admin_urls")
def catalog_admin_urls():
    return [
        path(
            "catalog/files/<int:file_id>/make-primary/",
            views.make_primary_view,
            name="catalog_make_primary",
        ),
    ]


@hooks.register("insert_global_admin_css")
def catalog_css():
    return format_html('<link rel="stylesheet" href="{}">', static("catalog/catalog.css"))
