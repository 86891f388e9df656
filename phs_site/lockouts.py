"""Settings → Sign-in lockouts: django-axes' counted failures, for an administrator to
lift one without a shell (docs/operations.md "Sign-in lockouts").

One row per user, address and browser that has failed to sign in; deleting it is what
``axes_reset_ip_username`` does, and Wagtail logs who did it (``wagtail.delete``).
Superusers only: there is no add or edit, and no role is given axes' permissions.
"""

from axes.models import AccessAttempt
from django.conf import settings
from django.urls import path
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _
from wagtail.admin.ui.tables import Column, DateColumn
from wagtail.admin.views.generic import DeleteView, IndexView
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.permissions import register_permission_policy

from catalog.admin_views import PermissionPolicyWithout


def locked_until(attempt: AccessAttempt) -> str:
    """When the pair may sign in again, or "—" while it is under the limit or past it."""
    until = attempt.attempt_time + settings.AXES_COOLOFF_TIME
    if attempt.failures_since_start < settings.AXES_FAILURE_LIMIT or until <= timezone.now():
        return "—"
    return date_format(timezone.localtime(until), "DATETIME_FORMAT")


class LockoutIndexView(IndexView):
    page_title = _("Sign-in lockouts")
    default_ordering = "-attempt_time"


class LiftLockView(DeleteView):
    page_title = _("Lift the lock")

    def get_success_message(self):
        return _("Sign-in is open again for “%(username)s” from %(address)s.") % {
            "username": self.object.username,
            "address": self.object.ip_address,
        }


register_permission_policy(
    AccessAttempt, PermissionPolicyWithout(AccessAttempt, never={"add", "change"})
)


class LockoutViewSet(ModelViewSet):
    model = AccessAttempt
    icon = "lock"
    menu_label = _("Sign-in lockouts")
    add_to_settings_menu = True
    index_view_class = LockoutIndexView
    delete_view_class = LiftLockView
    copy_view_enabled = False
    list_display = [
        "username",  # the title column: its menu has "Delete", which lifts the lock
        Column("ip_address", label=_("Address")),
        Column("failures_since_start", label=_("Failures")),
        DateColumn("attempt_time", label=_("Last failure")),
        Column("locked_until", label=_("Locked until"), accessor=locked_until),
        Column("user_agent", label=_("Browser")),
    ]
    search_fields = ["username", "ip_address"]

    def get_urlpatterns(self):
        return [
            path("", self.index_view, name="index"),
            path("results/", self.index_results_view, name="index_results"),
            path("delete/<str:pk>/", self.delete_view, name="delete"),
        ]

    def get_common_view_kwargs(self, **kwargs):
        removed = ("add", "edit", "history", "usage", "inspect")
        return super().get_common_view_kwargs(
            **{f"{name}_url_name": None for name in removed}, **kwargs
        )
