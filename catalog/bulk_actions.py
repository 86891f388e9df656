"""Bulk actions on the catalog's listings."""

from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from wagtail.snippets.bulk_actions.delete import DeleteBulkAction
from wagtail.snippets.bulk_actions.snippet_bulk_action import SnippetBulkAction

from .models import Drive, FileEntry
from .services.drives import delete_drive
from .services.duplicates import DuplicateError, make_primary


class MakePrimaryBulkAction(SnippetBulkAction):
    display_name = _("Make primary")
    action_type = "make_primary"
    aria_label = _("Make the selected files the primary copies of their duplicate groups")
    template_name = "catalog/bulk_actions/confirm_make_primary.html"
    action_priority = 50
    models = [FileEntry]

    @classmethod
    def is_shown_to(cls, user) -> bool:
        """Whether the listing offers it (phs_site.ui's bulk-action footer asks)."""
        return user.has_perm("catalog.change_duplicategroup")

    def check_perm(self, obj):
        return self.is_shown_to(self.request.user)

    @classmethod
    def execute_action(cls, objects, user=None, **kwargs):
        try:
            changed = make_primary(objects, user=user)
        except DuplicateError as error:
            kwargs["self"].error = str(error)
            return 0, 0
        return changed, 0

    def get_success_message(self, num_parent_objects, num_child_objects):
        if getattr(self, "error", None):
            return None
        return ngettext(
            "%(count)d file is now a primary copy",
            "%(count)d files are now primary copies",
            num_parent_objects,
        ) % {"count": num_parent_objects}

    def form_valid(self, form):
        response = super().form_valid(form)
        if getattr(self, "error", None):
            from django.contrib import messages

            messages.error(self.request, self.error)
        return response


class DeleteDrivesBulkAction(DeleteBulkAction):
    """Wagtail's bulk *Delete* on the drive listing, through ``delete_drive`` (Wagtail's
    own deletes a queryset, leaving duplicate groups counting files that were gone).
    Registered after Wagtail's, so it takes its place for drives only."""

    models = [Drive]

    @classmethod
    def execute_action(cls, objects, user=None, **kwargs):
        for drive in objects:
            delete_drive(drive, user=user)
        return len(objects), 0
