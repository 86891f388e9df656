"""The catalog in the Wagtail admin: drives, files, project groups and duplicate groups,
as snippets under one "Catalog" menu. Registered in ``wagtail_hooks``."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.template.defaultfilters import filesizeformat
from django.urls import path
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel, FieldRowPanel, MultiFieldPanel, ObjectList
from wagtail.admin.ui.tables import Column, DateColumn
from wagtail.snippets.views.snippets import (
    DeleteView,
    EditView,
    IndexView,
    InspectView,
    SnippetViewSet,
    SnippetViewSetGroup,
)

from catalog.admin_views import WRITES, ReadableInspectMixin
from catalog.filters import FileEntryFilterSet
from catalog.models import Drive, DuplicateGroup, FileEntry, ProjectGroup
from catalog.selectors import (
    IdFirstPaginator,
    drives_with_totals,
    files_for_listing,
    root_folder_count,
)
from catalog.services.drives import delete_drive
from catalog.templatetags.phs_previews import previews_for, thumbnail_html
from phs_site.spreadsheets import FormulaSafeExportMixin
from search.listing import search_files
from workflow.services.duplicates import may_settle

from .curate.conflicts import as_sentence, changes_since, last_changed_by
from .duplicates import DuplicateGroupFilterSet, settle_url, settle_view
from .editor import ReviewCommentPanel
from .forms import FileEntryForm, GroupChooser
from .previews import FilePreviewPanel


class PlainColumn(Column):
    """A cell rendered by ``format_html`` instead of a template.

    A page of the file listing has 25 rows × 6 of these; each template render costs
    about 1 ms, which was most of the listing's time at a million files.
    """

    def render_cell_html(self, instance, parent_context):
        value = self.get_value(instance)
        return format_html("<td>{}</td>", "" if value is None else value)


class StatusColumn(PlainColumn):
    """The status as a dot in the seed's colour and its label."""

    def render_cell_html(self, instance, parent_context):
        return format_html(
            '<td><span class="phs-status phs-status--{}"><span class="phs-status__dot" '
            'style="background: {}" aria-hidden="true"></span>{}</span></td>',
            instance.status,
            instance.status_colour,
            instance.get_status_display(),
        )


class SizeColumn(PlainColumn):
    def get_value(self, instance):
        size = super().get_value(instance)
        return filesizeformat(size) if size is not None else "—"


class PreviewColumn(PlainColumn):
    """The file's offline thumbnail, lazy-loaded with its size (nothing shifts, nothing
    waits). The page's previews are read once, on the first row: one query per page."""

    def render_cell_html(self, instance, parent_context):
        table = parent_context["table"]
        previews = getattr(table, "phs_previews", None)
        if previews is None:
            previews = table.phs_previews = previews_for(table.data)
        return format_html(
            '<td class="phs-thumb-cell">{}</td>', thumbnail_html(previews, instance.oshash)
        )


class PlainDateColumn(PlainColumn):
    def render_cell_html(self, instance, parent_context):
        value = self.get_value(instance)
        if value is None:
            return mark_safe("<td></td>")
        return format_html(
            '<td><time datetime="{}">{}</time></td>', value.isoformat(), date_format(value)
        )


class FileIndexView(FormulaSafeExportMixin, IndexView):
    # Ordered by the unique (drive, path, filename) index: no sort step at any size.
    default_ordering = ("drive_id", "path", "filename")
    paginator_class = IdFirstPaginator

    def get_list_more_buttons(self, instance):
        # The title links to the file's page, which has Inspect and Delete in its own
        # menu. A dropdown per row was 40% of the listing's rendering time.
        return []

    def order_queryset(self, queryset):
        # Sorting by size, status or date leaves ties: the primary key breaks them, so
        # each file is on exactly one page however the pages are read.
        queryset = super().order_queryset(queryset)
        ordering = tuple(queryset.query.order_by)
        unique = ordering[-1:] in {("pk",), ("-pk",), ("id",), ("-id",)} or (
            tuple(field.lstrip("-") for field in ordering[-3:]) == self.default_ordering
        )
        if ordering and not unique:
            queryset = queryset.order_by(*ordering, "pk")
        return queryset

    def search_queryset(self, queryset):
        if not self.is_searching:
            return queryset
        return search_files(queryset, self.search_query)

    def get_paginator(self, queryset, per_page, **kwargs):
        paginator = super().get_paginator(queryset, per_page, **kwargs)
        known = self.count_from_folders()
        if known is not None:
            paginator.__dict__["count"] = known  # Paginator.count is a cached_property
        return paginator

    def count_from_folders(self) -> int | None:
        """The listing's total from the drives' root folder counters, when the only
        filters are drive and status: a COUNT over a million rows costs ~300 ms."""
        if self.is_searching:
            return None
        filters = self.filters
        if filters is not None:
            if not filters.is_valid():
                return None
            if set(filters.form.changed_data) - {"drive", "status"}:
                return None
            drive = filters.form.cleaned_data.get("drive")
            statuses = filters.form.cleaned_data.get("status") or []
        else:
            drive, statuses = None, []
        return root_folder_count(drive=drive, statuses=statuses)


#: Wagtail's editor actions that withdraw a review (restart withdraws, then resubmits).
WITHDRAWALS = ("cancel-workflow", "restart-workflow")


class FileEditView(EditView):
    def save_instance(self):
        """Save through the review service, the one write path for a curator's decision:
        reviewer stamp, folder counts, a revision, the review state. Only the fields this
        person changed from what the form showed, and only on the version it showed."""
        from workflow.services.review import save_decision

        file = save_decision(
            file=self.form.instance,
            user=self.request.user,
            changes=self.form.edited(),
            expected_version=self.form.cleaned_data["opened_version"],
        )
        self.new_revision = file.latest_revision
        return file

    def form_valid(self, form):
        from workflow.services.review import VersionConflict

        try:
            return super().form_valid(form)
        except VersionConflict as conflict:
            return self.form_invalid(self.stale_form(form, conflict.file))

    def stale_form(self, form, current):
        """Someone saved since this form was opened: the form again on their version
        (this person's edits kept), with what they changed, in words, as its errors."""
        rebased = self.get_form_class()(**{**self.get_form_kwargs(), "data": form.rebased(current)})
        rebased.is_valid()
        by = last_changed_by(current)
        for change in changes_since(form.cleaned_data["opened_values"], current):
            rebased.add_error(None, as_sentence(change))
        rebased.add_error(None, "Your own edits are kept. Check the form, then save again.")
        self.produced_error_code = "version_conflict"
        self.produced_error_message = (
            f"{by} saved this file since you opened it; their changes are now in the form."
        )
        return rebased

    # Wagtail lets a reviewer withdraw a submission too; here the review service decides.

    def may_withdraw(self) -> bool:
        from workflow.services.permissions import permissions_for

        state = self.workflow_state
        return (
            bool(state)
            and (
                permissions_for(
                    self.object, self.request.user, submitted_by_id=state.requested_by_id
                )
            ).cancel
        )

    def get_available_actions(self):
        actions = super().get_available_actions()
        if self.request.method == "POST" and not self.may_withdraw():
            actions = [action for action in actions if action not in WITHDRAWALS]
        return actions

    def post(self, request, *args, **kwargs):
        if self.action not in WITHDRAWALS and any(
            request.POST.get(f"action-{action}") for action in WITHDRAWALS
        ):
            raise PermissionDenied(
                "Only the person who submitted this file for review, or an administrator, "
                "can withdraw it."
            )
        return super().post(request, *args, **kwargs)

    def cancel_workflow_action(self):
        from workflow.services.review import ReviewError, cancel_review

        try:
            cancel_review(file=self.object, user=self.request.user)
        except ReviewError as error:  # already withdrawn or decided (a second click)
            messages.error(self.request, str(error))

    def restart_workflow_action(self):
        self.cancel_workflow_action()
        self.workflow.start(self.object, self.request.user)

    def _get_action_menu(self):
        menu = super()._get_action_menu()
        if not self.may_withdraw():
            names = {f"action-{action}" for action in WITHDRAWALS}
            menu.menu_items = [item for item in menu.menu_items if item.name not in names]
        return menu


class FileInspectView(ReadableInspectMixin, InspectView):
    """A file's facts as people read them, its duration as a timecode (the scanner's
    ``duration_tc`` form)."""

    byte_fields = ("size",)
    #: The file's offline preview above its facts (one query).
    template_name = "catalog/editor/inspect.html"

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "previews": previews_for([self.object])}

    def get_field_display_value(self, field_name, field):
        value = getattr(self.object, field_name, None)
        if field_name == "duration" and value is not None:
            minutes, seconds = divmod(value, 60)
            hours, minutes = divmod(int(minutes), 60)
            return f"{hours:02}:{minutes:02}:{seconds:06.3f}"
        return super().get_field_display_value(field_name, field)


class FileEntryViewSet(SnippetViewSet):
    model = FileEntry
    icon = "doc-full"
    menu_label = _("Files")
    # Each rendered row costs ~2 ms in Wagtail's table; 25 keeps a page well under 150 ms.
    list_per_page = 25
    index_view_class = FileIndexView
    edit_view_class = FileEditView
    inspect_view_class = FileInspectView

    def get_queryset(self, request):
        return files_for_listing()

    filterset_class = FileEntryFilterSet
    search_fields = ["filename", "path", "oshash", "title"]
    search_backend_name = None
    inspect_view_enabled = True
    copy_view_enabled = False
    list_display = [
        "filename",
        PreviewColumn("preview", label=_("Preview")),
        PlainColumn("location", label=_("Location"), accessor="location"),
        StatusColumn("status", label=_("Status"), sort_key="status"),
        PlainColumn("category", label=_("Type"), accessor="get_category_display"),
        SizeColumn("size", label=_("Size"), sort_key="size"),
        PlainDateColumn("date", label=_("Date"), sort_key="date"),
        PlainColumn("is_primary", label=_("Copies"), accessor="copies_label"),
    ]
    list_export = [
        "drive",
        "path",
        "filename",
        "oshash",
        "size",
        "mime_type",
        "status",
        "title",
        "project_group",
        "date",
    ]
    inspect_view_fields = [
        "drive",
        "path",
        "filename",
        "oshash",
        "size",
        "mime_type",
        "category",
        "exif_date_raw",
        "exif_date",
        "duration",
        "resolution",
        "camera",
        "status",
        "title",
        "description",
        "project_group",
        "date",
        "notes",
        "reviewed_at",
        "reviewed_by",
        "duplicate_group",
        "is_primary",
    ]
    edit_handler = ObjectList(
        [
            ReviewCommentPanel(heading=_("Sent back by the reviewer")),
            FilePreviewPanel(heading=_("Offline preview")),
            MultiFieldPanel(
                [
                    FieldRowPanel(
                        [
                            FieldPanel("status"),
                            FieldPanel("project_group", widget=GroupChooser(ProjectGroup)),
                        ]
                    ),
                    FieldPanel("title"),
                    FieldPanel("date"),
                    FieldPanel("description"),
                    FieldPanel("notes"),
                ],
                heading=_("Decision"),
            ),
        ],
        base_form_class=FileEntryForm,
    )


class DriveDeleteView(DeleteView):
    """Deletes through ``delete_drive``, which settles the duplicate groups that held
    the drive's copies (a plain delete left them counting files that were gone)."""

    def delete_action(self):
        delete_drive(self.object, user=self.request.user)


class DriveViewSet(SnippetViewSet):
    model = Drive
    icon = "folder-inverse"
    menu_label = _("Drives")
    delete_view_class = DriveDeleteView

    def get_queryset(self, request):
        return drives_with_totals()

    list_display = [
        "name",
        Column("files", label=_("Files"), accessor="file_total"),
        DateColumn("last_imported_at", label=_("Last import"), sort_key="last_imported_at"),
    ]
    search_fields = ["name"]
    search_backend_name = None
    panels = [FieldPanel("name"), FieldPanel("description")]


class ProjectGroupViewSet(SnippetViewSet):
    model = ProjectGroup
    icon = "tag"
    menu_label = _("Project groups")
    list_display = ["name", "description"]
    search_fields = ["name"]
    search_backend_name = None


#: What each catalog model may not do through the admin's generic views, and why.
ADMIN_NEVER = {
    # Files come from imports and stay (a file missing from a new manifest is reported,
    # not deleted); the form has only the curator's fields, so "add" was a 500.
    FileEntry: {"add", "delete"},
    # update_duplicates computes groups; the one hand-made choice, the primary copy, has
    # its own action (Make primary), which checks catalog.change_duplicategroup itself.
    DuplicateGroup: WRITES,
}


class DuplicateGroupInspectView(InspectView):
    """A group's copies side by side, each with a *Make primary* button (for those who
    may choose primaries)."""

    template_name = "catalog/duplicate_group_inspect.html"

    def get_context_data(self, **kwargs):
        from catalog.views import make_primary_url

        context = super().get_context_data(**kwargs)
        copies = (
            FileEntry.objects.filter(duplicate_group=self.object)
            .select_related("drive")
            .order_by("drive__name", "path", "filename")
        )
        context["copies"] = [
            (copy, make_primary_url(copy), settle_url(self.object.pk, copy.pk)) for copy in copies
        ]
        context["can_settle"] = self.object.has_conflict and may_settle(self.request.user)
        # One preview for the whole group: copies share their oshash, so their content.
        context["previews"] = previews_for([self.object.oshash])
        context["can_choose_primary"] = self.request.user.has_perm("catalog.change_duplicategroup")
        return context


class DuplicateGroupViewSet(SnippetViewSet):
    model = DuplicateGroup
    icon = "doc-empty-inverse"
    menu_label = _("Duplicate groups")
    add_to_admin_menu = False
    inspect_view_enabled = True
    inspect_view_class = DuplicateGroupInspectView

    def get_queryset(self, request):
        return DuplicateGroup.objects.select_related("primary__drive", "selected_by")

    filterset_class = DuplicateGroupFilterSet

    def get_urlpatterns(self):
        # Keep one copy's decision for the whole group (conflicting groups; reviewers).
        return [
            *super().get_urlpatterns(),
            path("settle/<int:pk>/<int:file_id>/", settle_view, name="settle"),
        ]

    list_display = [
        "oshash",
        PreviewColumn("preview", label=_("Preview")),
        Column("member_count", label=_("Copies"), sort_key="member_count"),
        SizeColumn("bytes_reclaimable", label=_("Reclaimable"), sort_key="bytes_reclaimable"),
        Column("primary", label=_("Primary copy"), accessor="primary"),
        Column("selection_method", label=_("Chosen"), accessor="selection_summary"),
        Column("has_conflict", label=_("Decisions"), accessor="decisions_label"),
    ]
    search_fields = ["oshash"]
    search_backend_name = None


class CatalogViewSetGroup(SnippetViewSetGroup):
    menu_label = _("Catalog")
    menu_icon = "folder-open-inverse"
    menu_order = 200
    items = (FileEntryViewSet, DriveViewSet, DuplicateGroupViewSet, ProjectGroupViewSet)
