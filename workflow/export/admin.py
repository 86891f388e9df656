"""The export report in the Wagtail admin: batches, and per-file results. Read-only.

Operators and Reviewers see it (``view`` permissions, given by the workflow migration
``0004_export_report_permissions``); nobody can add, change or delete through it — the
outbox is written by approvals and the runner only.

``workflow/wagtail_hooks.py`` registers it: ``from workflow.export.admin import
register_export_admin`` then ``register_export_admin()`` at import time.
"""

import json

from django.urls import path
from django.utils.translation import gettext_lazy as _
from wagtail.admin.ui.tables import Column, DateColumn
from wagtail.admin.views.generic import IndexView, InspectView
from wagtail.admin.viewsets.model import ModelViewSet, ModelViewSetGroup
from wagtail.permissions import register_permission_policy

from catalog.admin_views import WRITES, PermissionPolicyWithout, ReadableInspectMixin
from workflow.models import ExportBatch, ExportRequest

from .status import request_message, upload_message

#: Requests shown on a batch's page (all of them are in the filtered request list).
BATCH_REQUESTS_SHOWN = 500
REPORT_SHOWN_CHARS = 200_000


class ReadableInspectView(ReadableInspectMixin, InspectView):
    """Times in the archive's time zone, "—" for nothing (``catalog.admin_views``)."""


class BatchInspectView(ReadableInspectView):
    template_name = "workflow/export/batch_inspect.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        requests = (
            self.object.requests.select_related("file__drive", "file__media_upload")
            .only(
                "state",
                "attempts",
                "last_error",
                "padma_id",
                "finished_at",
                "next_attempt_at",
                "file__path",
                "file__filename",
                "file__drive__name",
                "file__category",
                "file__padma_id",
                "file__media_upload",
            )
            .order_by("state", "id")
        )
        context["requests"] = list(requests[:BATCH_REQUESTS_SHOWN])
        for request in context["requests"]:
            request.message = request_message(request)
            request.upload = upload_message(request.file)
        context["requests_total"] = self.object.exported + self.object.failed
        context["requests_total"] += self.object.skipped
        context["requests_url"] = export_request_viewset.get_url_name("index")
        if self.object.dry_run:
            text = json.dumps(self.object.report, indent=2, ensure_ascii=False)
            if len(text) > REPORT_SHOWN_CHARS:
                text = (
                    text[:REPORT_SHOWN_CHARS]
                    + "\n… (cut here; `export_padma --dry-run` prints it all)"
                )
            context["report_json"] = text
        return context


class RequestIndexView(IndexView):
    default_ordering = "-id"

    def get_base_queryset(self):
        return (
            super().get_base_queryset().select_related("file__drive", "file__media_upload", "batch")
        )


class ReadOnlyViewSet(ModelViewSet):
    """Only the listing and the inspect page exist: no add, edit, delete or copy URLs."""

    add_to_admin_menu = False
    inspect_view_enabled = True
    inspect_view_class = ReadableInspectView
    copy_view_enabled = False
    list_per_page = 50

    def get_urlpatterns(self):
        return [
            path("", self.index_view, name="index"),
            path("results/", self.index_results_view, name="index_results"),
            path(f"inspect/<{self.pk_path_converter}:pk>/", self.inspect_view, name="inspect"),
        ]

    def get_common_view_kwargs(self, **kwargs):
        removed = ("add", "edit", "delete", "history", "usage")
        return super().get_common_view_kwargs(
            **{f"{name}_url_name": None for name in removed}, **kwargs
        )


class ExportBatchViewSet(ReadOnlyViewSet):
    model = ExportBatch
    icon = "upload"
    menu_label = _("Export batches")
    inspect_view_class = BatchInspectView
    list_filter = ["dry_run"]
    list_display = [
        Column("__str__", label=_("Batch"), accessor="pk"),
        DateColumn("started_at", label=_("Started"), sort_key="started_at"),
        Column("backend", label=_("Backend")),
        Column("dry_run", label=_("Report only")),
        Column("exported", label=_("Exported")),
        Column("failed", label=_("Failed")),
        Column("skipped", label=_("Skipped")),
        Column("error", label=_("Stopped by")),
        DateColumn("finished_at", label=_("Finished")),
    ]
    inspect_view_fields = [
        "started_at",
        "finished_at",
        "backend",
        "dry_run",
        "started_by",
        "exported",
        "failed",
        "skipped",
        "error",
    ]


class ExportRequestViewSet(ReadOnlyViewSet):
    model = ExportRequest
    icon = "doc-full"
    menu_label = _("Export requests")
    index_view_class = RequestIndexView
    list_filter = ["state", "batch"]
    list_display = [
        Column("file", label=_("File"), accessor="file"),
        Column("state", label=_("State"), accessor="get_state_display"),
        Column("attempts", label=_("Attempts")),
        Column("last_error", label=_("Message"), accessor=request_message),
        Column("padma_id", label=_("pad.ma item")),
        Column("upload", label=_("Upload"), accessor=lambda request: upload_message(request.file)),
        DateColumn("requested_at", label=_("Requested"), sort_key="requested_at"),
        DateColumn("next_attempt_at", label=_("Next attempt")),
        DateColumn("finished_at", label=_("Finished")),
        Column("batch", label=_("Batch"), accessor="batch_id"),
    ]
    inspect_view_fields = [
        "file",
        "state",
        "attempts",
        "last_error",
        "padma_id",
        "revision",
        "requested_at",
        "requested_by",
        "next_attempt_at",
        "finished_at",
        "located_at",
        "batch",
    ]


class PadmaExportViewSetGroup(ModelViewSetGroup):
    menu_label = _("pad.ma export")
    menu_icon = "upload"
    menu_order = 300
    items = ()


export_batch_viewset = ExportBatchViewSet("export_batches", url_prefix="padma-export/batches")
export_request_viewset = ExportRequestViewSet("export_requests", url_prefix="padma-export/requests")
PadmaExportViewSetGroup.items = (export_batch_viewset, export_request_viewset)

_registered = False


def register_export_admin() -> None:
    """Register the read-only policies and the "pad.ma export" menu; safe to call twice."""
    global _registered
    if _registered:
        return
    from wagtail import hooks

    register_permission_policy(ExportBatch, PermissionPolicyWithout(ExportBatch, never=WRITES))
    register_permission_policy(ExportRequest, PermissionPolicyWithout(ExportRequest, never=WRITES))
    hooks.register("register_admin_viewset", lambda: PadmaExportViewSetGroup())
    _registered = True
