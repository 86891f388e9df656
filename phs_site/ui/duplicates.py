"""The duplicate-group listing's filter and the group view's one-step *settle* action.

The listing's ``?conflict=yes`` is what the dashboard's "N with conflicting decisions"
links to. Settling is ``workflow.services.duplicates.settle_conflict``; this view only
checks the request and says what happened.
"""

import django_filters
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST
from wagtail.admin.filters import WagtailFilterSet

from catalog.models import DuplicateGroup, FileEntry
from workflow.services.duplicates import SettleError, may_settle, settle_conflict

#: The listing's ``?conflict=`` values (the dashboard links to ``yes``).
CONFLICT_CHOICES = [("yes", _("Conflicting decisions")), ("no", _("Decisions agree"))]


class DuplicateGroupFilterSet(WagtailFilterSet):
    conflict = django_filters.ChoiceFilter(
        label=_("Decisions"), choices=CONFLICT_CHOICES, method="by_conflict"
    )

    class Meta:
        model = DuplicateGroup
        fields = []

    def by_conflict(self, queryset, name, value):
        return queryset.filter(has_conflict=value == "yes")


def settle_url(group_id: int, file_id: int) -> str:
    return reverse("wagtailsnippets_catalog_duplicategroup:settle", args=[group_id, file_id])


@require_POST
def settle_view(request, pk: int, file_id: int):
    """Keep this copy's decision for the whole group (and make it the primary)."""
    if not may_settle(request.user):
        raise PermissionDenied
    group = get_object_or_404(DuplicateGroup, pk=pk)
    keep = get_object_or_404(FileEntry, pk=file_id)
    try:
        settled = settle_conflict(group=group, keep=keep, user=request.user)
    except SettleError as error:
        messages.error(request, str(error))
    else:
        (messages.warning if settled.still_conflicting else messages.success)(request, str(settled))
    return redirect("wagtailsnippets_catalog_duplicategroup:inspect", group.pk)
