from functools import update_wrapper

from django.urls import include, path
from django.views.generic import RedirectView
from wagtail.admin import urls as wagtailadmin_urls
from wagtail.admin.auth import require_admin_access
from wagtail.admin.urls import reports as wagtail_reports
from wagtail.admin.views.mixins import SpreadsheetExportMixin

from phs_site import bulk_actions
from phs_site.health import healthz
from phs_site.spreadsheets import formula_safe_view


def _behind_admin_login(view):
    return update_wrapper(require_admin_access(view), view)  # keeps view_class for resolve()


# Wagtail's reports (site history, workflows) export file locations and titles as CSV
# too: the same views with the formula-safe export, matched before Wagtail's own at the
# same addresses (so their URL names still resolve there), behind the admin login as
# Wagtail's own URLs are (require_admin_access, which wagtail.admin.urls applies).
formula_safe_reports = [
    path(
        f"admin/reports/{pattern.pattern}",
        _behind_admin_login(
            formula_safe_view(view_class).as_view(**pattern.callback.view_initkwargs)
        ),
    )
    for pattern in wagtail_reports.urlpatterns
    if issubclass(view_class := pattern.callback.view_class, SpreadsheetExportMixin)
]

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    *formula_safe_reports,
    *bulk_actions.urlpatterns,
    # Offline previews: their own login and permission checks (an image or JSON answer,
    # never the admin's HTML refusal), so outside Wagtail's admin URL wrapper.
    path("admin/previews/", include("catalog.previews.urls", namespace="phs_previews")),
    path("admin/", include(wagtailadmin_urls)),
    path("", RedirectView.as_view(pattern_name="wagtailadmin_home", permanent=False)),
]
