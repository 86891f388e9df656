"""Listing filters for the file snippet (django-filter, in Wagtail's filter sidebar).

The keys, labels and conditions are the shared vocabulary's (``catalog.file_filters``),
so the listing and Find files select the same files for the same URL; django-filter
only draws the sidebar's widgets and drops values they cannot read.
"""

import django_filters
from django.utils.translation import gettext_lazy as _
from wagtail.admin.filters import DateRangePickerWidget, WagtailFilterSet

from .file_filters import FILTERS, YES_NO, file_filter, listing_params
from .models import Category, Drive, FileEntry, ProjectGroup, ReviewState, Status
from .selectors import camera_choices


def _shared(filter_class, key: str, **kwargs):
    """A sidebar filter for the vocabulary's ``key``: its label and its condition."""
    return filter_class(label=FILTERS[key].label, method="by_vocabulary", **kwargs)


class FileEntryFilterSet(WagtailFilterSet):
    drive = _shared(django_filters.ModelChoiceFilter, "drive", queryset=Drive.objects.all())
    status = _shared(django_filters.MultipleChoiceFilter, "status", choices=Status.choices)
    review = _shared(
        django_filters.ChoiceFilter,
        "review",
        choices=[c for c in ReviewState.choices if c[0]],
    )
    category = _shared(django_filters.ChoiceFilter, "category", choices=Category.choices)
    project_group = _shared(
        django_filters.ModelChoiceFilter, "project_group", queryset=ProjectGroup.objects.all()
    )
    camera = _shared(django_filters.ChoiceFilter, "camera", choices=camera_choices)
    duplicate = _shared(django_filters.ChoiceFilter, "duplicate", choices=list(YES_NO.items()))
    exported = _shared(django_filters.ChoiceFilter, "exported", choices=list(YES_NO.items()))
    # The listing's own: a range where Find files has years.
    date = django_filters.DateFromToRangeFilter(label=_("Date"), widget=DateRangePickerWidget)

    class Meta:
        model = FileEntry
        fields = [
            "drive",
            "status",
            "review",
            "category",
            "project_group",
            "camera",
            "duplicate",
            "exported",
            "date",
        ]

    def __init__(self, data=None, *args, **kwargs):
        super().__init__(None if data is None else listing_params(data), *args, **kwargs)

    def by_vocabulary(self, queryset, name, value):
        values = value if isinstance(value, list) else [value]
        condition = file_filter(name, [str(getattr(v, "pk", v)) for v in values])
        return queryset if condition is None else queryset.filter(condition)
