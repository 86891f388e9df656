"""Listing filters for the file snippet (django-filter, in Wagtail's filter sidebar)."""

import django_filters
from django.utils.translation import gettext_lazy as _
from wagtail.admin.filters import DateRangePickerWidget, WagtailFilterSet

from .models import Category, Drive, FileEntry, ProjectGroup, ReviewState, Status
from .selectors import camera_choices


class FileEntryFilterSet(WagtailFilterSet):
    drive = django_filters.ModelChoiceFilter(queryset=Drive.objects.all(), label=_("Drive"))
    # distinct=False: a status is one column, and DISTINCT over every column of a
    # million rows turns the listing's COUNT into seconds.
    status = django_filters.MultipleChoiceFilter(
        choices=Status.choices, label=_("Status"), distinct=False
    )
    review_state = django_filters.ChoiceFilter(
        choices=[c for c in ReviewState.choices if c[0]], label=_("Review")
    )
    category = django_filters.ChoiceFilter(choices=Category.choices, label=_("Type"))
    project_group = django_filters.ModelChoiceFilter(
        queryset=ProjectGroup.objects.all(), label=_("Project group")
    )
    camera = django_filters.ChoiceFilter(choices=camera_choices, label=_("Camera"))
    duplicate = django_filters.BooleanFilter(
        field_name="duplicate_group", lookup_expr="isnull", exclude=True, label=_("Has copies")
    )
    date = django_filters.DateFromToRangeFilter(label=_("Date"), widget=DateRangePickerWidget)

    class Meta:
        model = FileEntry
        fields = [
            "drive",
            "status",
            "review_state",
            "category",
            "project_group",
            "camera",
            "duplicate",
            "date",
        ]
