"""Bulk review actions on the file listing: set status / project group, submit,
approve, reject.

Wagtail's bulk actions load every selected object (and, with *select all*, every
object of the model, ignoring the listing's filters). These work on a queryset:
the selected ids, or — with *select all* — exactly the files the listing shows,
rebuilt from the listing's own query string. Each action is one service call.
"""

from urllib.parse import urlsplit

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.utils.translation import gettext_lazy as _
from wagtail.snippets.bulk_actions.snippet_bulk_action import SnippetBulkAction

from catalog.models import FileEntry, ProjectGroup, Status
from workflow.bulk_tasks import files_from_selection, run_action, run_bulk_action
from workflow.models import is_reviewer

PREVIEW = 20


class FileSetBulkAction(SnippetBulkAction):
    models = [FileEntry]
    template_name = "workflow/bulk_action_confirm.html"
    #: The model permission the action needs (checked once, not per file).
    permission = "catalog.change_fileentry"
    verb = ""

    def selection(self) -> dict:
        """What was selected, as data: ids, or "select all" as the listing's own query."""
        ids = self.request.GET.getlist("id")
        if "all" not in ids:
            return {"ids": [int(i) for i in ids if i.isdigit()]}
        return {"listing_query": urlsplit(self.next_url).query}

    def selected_files(self):
        return files_from_selection(self.selection())

    @classmethod
    def is_shown_to(cls, user) -> bool:
        """Whether the listing offers this action to ``user`` (phs_site.ui's footer)."""
        return user.has_perm(cls.permission)

    def check_perm(self, obj):
        return self.is_shown_to(self.request.user)

    def get_actionable_objects(self):
        if not self.is_shown_to(self.request.user):
            raise PermissionDenied
        return self.selected_files(), {"items_with_no_access": []}

    def get_context_data(self, **kwargs):
        files = self.selected_files()
        return {
            **super(SnippetBulkAction, self).get_context_data(**kwargs),
            "count": files.count(),
            "preview": files.select_related("drive").order_by("drive_id", "path", "filename")[
                :PREVIEW
            ],
            "verb": self.verb,
            "header_icon": "doc-full",
            "next": self.next_url,
            "submit_url": self.request.path + "?" + self.request.META["QUERY_STRING"],
            "model_opts": FileEntry._meta,
        }

    def form_valid(self, form):
        self.cleaned_form = form
        data = {key: getattr(value, "pk", value) for key, value in form.cleaned_data.items()}
        files = self.selected_files()
        if files.count() > settings.PHS_BULK_INLINE_LIMIT:
            # Large selections run in the background; the task rebuilds the selection.
            run_bulk_action.enqueue(self.action_type, self.request.user.pk, self.selection(), data)
            messages.success(
                self.request,
                f"{self.display_name}: {files.count():,} files queued; "
                "the change appears as the work completes.",
            )
            return redirect(self.next_url)
        try:
            result = run_action(self.action_type, files, user=self.request.user, data=data)
        except (ValueError, forms.ValidationError, PermissionDenied) as error:
            reason = " ".join(getattr(error, "messages", None) or [str(error)])
            messages.error(self.request, f"{self.display_name}: {reason}")
            return redirect(self.next_url)
        messages.success(self.request, f"{self.display_name}: {result}.")
        return redirect(self.next_url)


class StatusForm(forms.Form):
    status = forms.ChoiceField(choices=Status.choices, label=_("New status"))


class SetStatusBulkAction(FileSetBulkAction):
    display_name = _("Set status")
    action_type = "set_status"
    aria_label = _("Set the status of the selected files")
    form_class = StatusForm
    verb = _("Set the status of")
    action_priority = 10


class ProjectGroupForm(forms.Form):
    project_group = forms.ModelChoiceField(
        ProjectGroup.objects.all(),
        required=False,
        label=_("Project group"),
        empty_label=_("(none)"),
    )


class SetProjectGroupBulkAction(FileSetBulkAction):
    display_name = _("Set project group")
    action_type = "set_project_group"
    aria_label = _("Set the project group of the selected files")
    form_class = ProjectGroupForm
    verb = _("Set the project group of")
    action_priority = 20


class SubmitBulkAction(FileSetBulkAction):
    display_name = _("Submit for review")
    action_type = "submit_for_review"
    aria_label = _("Submit the selected files for review")
    verb = _("Submit for review")
    action_priority = 30


class ApproveForm(forms.Form):
    comment = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))


class ApproveBulkAction(FileSetBulkAction):
    display_name = _("Approve")
    action_type = "approve"
    aria_label = _("Approve the selected files for pad.ma")
    form_class = ApproveForm
    verb = _("Approve for pad.ma")
    action_priority = 40

    @classmethod
    def is_shown_to(cls, user) -> bool:
        return is_reviewer(user)


class RejectForm(forms.Form):
    comment = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), label=_("What needs to change")
    )


class RejectBulkAction(ApproveBulkAction):
    display_name = _("Reject")
    action_type = "reject"
    aria_label = _("Send the selected files back to their curators")
    form_class = RejectForm
    verb = _("Send back (needs attention)")
    action_priority = 50
    classes = {"serious"}


BULK_ACTIONS = [
    SetStatusBulkAction,
    SetProjectGroupBulkAction,
    SubmitBulkAction,
    ApproveBulkAction,
    RejectBulkAction,
]
