"""Dashboard panels: what was sent back to you (``feedback``), per-drive progress, your
recent work, export state, duplicates.

Pictures rather than tables: stacked SVG bars whose geometry is computed here (so the
templates need no inline styles or scripts). Each panel is one or two queries.
"""

from django.db.models import Count
from django.forms import Media
from django.urls import reverse
from wagtail.admin.site_summary import PagesSummaryItem, SummaryItem
from wagtail.admin.ui.components import Component
from wagtail.documents.wagtail_hooks import DocumentsSummaryItem
from wagtail.images.wagtail_hooks import ImagesSummaryItem

from catalog.models import STATUS_COLOURS, Status
from catalog.selectors import drive_progress
from workflow.models import ExportRequest, ExportState

from ..curate import selectors
from .feedback import SentBackPanel
from .upload import UploadPlanPanel

#: Export states in bar order, with their colours (the status palette's meanings).
EXPORT_COLOURS = {
    ExportState.DONE: STATUS_COLOURS[Status.UPLOAD],
    ExportState.PENDING: STATUS_COLOURS[Status.NEEDS_ATTENTION],
    ExportState.FAILED: STATUS_COLOURS[Status.DISCARD],
    ExportState.SKIPPED: STATUS_COLOURS[Status.UNREVIEWED],
}

#: Kept bytes in the upload green, reclaimable ones in the discard red.
DUPLICATE_COLOURS = {
    "kept": STATUS_COLOURS[Status.UPLOAD],
    "reclaimable": STATUS_COLOURS[Status.DISCARD],
}

#: Width of the bars' coordinate system (the SVG stretches to its box).
BAR = 1000.0

_CSS = Media(css={"all": ["catalog/curate/dashboard.css"]})


def stacked(parts: list[tuple[str, str, int]], total: int, colours: dict) -> list[dict]:
    """Segments of a bar: (key, label, value) → x/width in BAR units, skipping zeros."""
    segments, x = [], 0.0
    for key, label, value in parts:
        if not value or not total:
            continue
        width = BAR * value / total
        segments.append(
            {
                "key": key,
                "label": label,
                "value": value,
                "colour": colours.get(key, ""),
                "x": round(x, 2),
                "width": round(width, 2),
            }
        )
        x += width
    return segments


class _Panel(Component):
    @property
    def media(self):
        return _CSS


class DriveProgressPanel(_Panel):
    name = "phs_drive_progress"
    order = 50
    template_name = "catalog/curate/panels/drive_progress.html"

    def get_context_data(self, parent_context=None):
        # Decided statuses first, then needs attention, unreviewed (grey) last.
        order = [
            Status.UPLOAD,
            Status.RESTRICTED,
            Status.KEEP_OFFLINE,
            Status.DISCARD,
            Status.NEEDS_ATTENTION,
            Status.UNREVIEWED,
        ]
        curate = reverse("phs_curate")
        drives = []
        for row in drive_progress():
            parts = [(s.value, s.label, row["by_status"][s.value]) for s in order]
            drives.append(
                {
                    **row,
                    "url": f"{curate}?drive={row['drive'].pk}",
                    "percent": round(100 * row["reviewed"] / row["total"]) if row["total"] else 0,
                    "segments": stacked(parts, row["total"], STATUS_COLOURS),
                }
            )
        legend = [{"label": s.label, "key": s.value, "colour": STATUS_COLOURS[s]} for s in order]
        return {"drives": drives, "legend": legend}


class RecentWorkPanel(_Panel):
    name = "phs_recent_work"
    order = 60
    template_name = "catalog/curate/panels/recent_work.html"

    def __init__(self, user):
        self.user = user

    def get_context_data(self, parent_context=None):
        work = selectors.recent_work(self.user)
        peak = max((n for _day, n in work["series"]), default=0) or 1
        step = BAR / len(work["series"])
        bars = [
            {
                "day": day,
                "count": n,
                "x": round(i * step + step * 0.1, 2),
                "width": round(step * 0.8, 2),
                "height": round(100 * n / peak, 2),
                "y": round(100 - 100 * n / peak, 2),
            }
            for i, (day, n) in enumerate(work["series"])
        ]
        curate = reverse("phs_curate")
        latest = [
            {
                "file": f,
                "url": f"{curate}?drive={f.drive_id}&file={f.pk}",
                "colour": STATUS_COLOURS[f.status],
            }
            for f in work["latest"]
        ]
        return {"bars": bars, "latest": latest, "total": work["total"]}


class ExportStatePanel(_Panel):
    name = "phs_export_state"
    order = 120
    template_name = "catalog/curate/panels/export_state.html"

    def get_context_data(self, parent_context=None):
        counts = dict(ExportRequest.objects.order_by().values_list("state").annotate(n=Count("id")))
        total = sum(counts.values())
        parts = [(state.value, state.label, counts.get(state.value, 0)) for state in EXPORT_COLOURS]
        return {
            "total": total,
            "segments": stacked(parts, total, EXPORT_COLOURS),
            "legend": [
                {"key": key, "label": label, "value": value, "colour": EXPORT_COLOURS[key]}
                for key, label, value in parts
            ],
        }


class DuplicatesPanel(_Panel):
    name = "phs_duplicates"
    order = 130
    template_name = "catalog/curate/panels/duplicates.html"

    def get_context_data(self, parent_context=None):
        savings = selectors.duplicate_savings()
        kept = max(savings["total"] - savings["reclaimable"], 0)
        parts = [("kept", "Kept", kept), ("reclaimable", "Reclaimable", savings["reclaimable"])]
        return {
            **savings,
            "segments": stacked(parts, savings["total"], DUPLICATE_COLOURS),
            "percent": round(100 * savings["reclaimable"] / savings["total"], 1)
            if savings["total"]
            else 0,
            "groups_url": reverse("wagtailsnippets_catalog_duplicategroup:list"),
        }


def dashboard_panels(request, panels: list) -> None:
    """construct_homepage_panels hook: our pictures, next to workflow's review panels."""
    user = request.user
    if not user.has_perm("catalog.view_fileentry"):
        return
    if user.has_perm("catalog.change_fileentry"):  # whoever submits may be sent back
        panels.append(SentBackPanel(user))
    panels.append(DriveProgressPanel())
    panels.append(RecentWorkPanel(user))
    panels.append(ExportStatePanel())
    panels.append(UploadPlanPanel())
    panels.append(DuplicatesPanel())


class CatalogSummaryItem(SummaryItem):
    """The line under the dashboard's title: drives, files and their size."""

    order = 50
    template_name = "catalog/curate/panels/site_summary.html"

    def get_context_data(self, parent_context=None):
        return {
            **selectors.catalog_summary(),
            "drives_url": reverse("wagtailsnippets_catalog_drive:list"),
            "files_url": reverse("wagtailsnippets_catalog_fileentry:list"),
        }

    def is_shown(self):
        return self.request.user.has_perm("catalog.view_fileentry")


#: Wagtail's own counts, of pages, images and documents this site does not keep.
_NOT_OURS = (PagesSummaryItem, ImagesSummaryItem, DocumentsSummaryItem)


def summary_items(request, items: list) -> None:
    """construct_homepage_summary_items hook (run after Wagtail's own): the catalog's
    counts instead of pages, images and documents."""
    items[:] = [item for item in items if not isinstance(item, _NOT_OURS)]
    items.append(CatalogSummaryItem(request))
