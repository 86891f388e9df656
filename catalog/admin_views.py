"""Small pieces the project's admin views share: what the generic views may not do, and
how an inspect page shows values.

``phs_site.ui.viewsets`` and ``workflow.export.admin`` use both.
"""

from datetime import datetime

from django.contrib.auth import get_user_model
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _
from wagtail.permission_policies import ModelPermissionPolicy


class PermissionPolicyWithout(ModelPermissionPolicy):
    """The model's Django permissions, less the admin actions in ``never``: writes that
    the project's services make, which a generic admin form would make around them.
    Denied to superusers too; the Django permissions stay for the services' own checks.
    """

    def __init__(self, model, *, never: set[str] | frozenset[str]):
        super().__init__(model)
        self.never = frozenset(never)

    def user_has_permission(self, user, action):
        return action not in self.never and super().user_has_permission(user, action)

    def users_with_any_permission(self, actions):
        allowed = [action for action in actions if action not in self.never]
        if not allowed:
            return get_user_model().objects.none()
        return super().users_with_any_permission(allowed)


#: The generic views' writes: a read-only model in the admin is one ``never`` these.
WRITES = frozenset({"add", "change", "delete"})


class ReadableInspectMixin:
    """An inspect page's values as people read them. Wagtail's template prints times in
    UTC (its ``localize`` filter skips the time-zone conversion) and ``None`` as is:
    here times are in the archive's time zone, flags Yes/No, nothing "—", and the
    fields in ``byte_fields`` in units with the exact bytes."""

    byte_fields: tuple[str, ...] = ()

    def get_field_display_value(self, field_name, field):
        value = getattr(self.object, field_name, None)
        if value is None or value == "":
            return "—"
        if isinstance(value, bool):
            return _("Yes") if value else _("No")
        if isinstance(value, datetime):
            return date_format(timezone.localtime(value), "DATETIME_FORMAT")
        if field_name in self.byte_fields:
            return f"{filesizeformat(value)} ({value:,} bytes)"
        return super().get_field_display_value(field_name, field)
