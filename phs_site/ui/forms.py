"""The file editor's form (the FileEntry snippet's edit view, ``viewsets.FileEditView``)."""

import json

from django import forms
from django.core.exceptions import ValidationError
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.snippets.widgets import AdminSnippetChooser

from catalog.services.files import CURATOR_FIELDS

from .curate.conflicts import normalised, values_of

STALE = "This form is out of date or incomplete: reload the page, then make your change again."


class GroupChooser(AdminSnippetChooser):
    """Wagtail's chooser re-showing a form whose group id was no number (``:``) looked it
    up anyway: a ValueError, a 500. Such a value shows as no group; the field says why."""

    def get_instance(self, value):
        try:
            return super().get_instance(value)
        except (ValueError, TypeError):
            return None


class FileEntryForm(WagtailAdminModelForm):
    """Carries, hidden, the version and the values it showed (as the Curate API's
    ``version`` and ``base``): a save based on an older version is refused, and a save
    writes only the fields this person changed from what they were shown."""

    opened_version = forms.CharField(widget=forms.HiddenInput, required=False)
    opened_values = forms.CharField(widget=forms.HiddenInput, required=False, strip=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound and self.instance.pk:
            self.initial["opened_version"] = self.instance.version
            self.initial["opened_values"] = json.dumps(values_of(self.instance))

    def clean(self):
        cleaned = super().clean()
        version = cleaned.get("opened_version") or ""
        try:
            opened = json.loads(cleaned.get("opened_values") or "")
            json.dumps(opened, ensure_ascii=False).encode()  # no lone surrogates
        except (ValueError, RecursionError, UnicodeEncodeError):
            opened = None
        if not (version.isascii() and version.isdigit()) or not isinstance(opened, dict):
            raise ValidationError(STALE, code="stale")
        cleaned["opened_version"] = int(version)
        cleaned["opened_values"] = opened
        return cleaned

    def edited(self) -> dict:
        """The curator fields whose submitted value differs from what the form showed."""
        opened = self.cleaned_data["opened_values"]
        changes = {}
        for name in CURATOR_FIELDS:
            if name not in self.fields:
                continue
            value = self.cleaned_data.get(name)
            sent = getattr(value, "pk", value)
            sent = sent.isoformat() if hasattr(sent, "isoformat") else sent
            if normalised(name, sent) != normalised(name, opened.get(name)):
                changes[name] = value
        return changes

    def rebased(self, current) -> dict:
        """This form's data on ``current``'s version: the fields this person edited keep
        their input, every other field shows ``current``'s value."""
        mine = self.edited()
        data = self.data.copy()
        for name, value in values_of(current).items():
            if name in self.fields and name not in mine:
                data[name] = "" if value is None else str(value)
        data["opened_version"] = str(current.version)
        data["opened_values"] = json.dumps(values_of(current))
        return data
