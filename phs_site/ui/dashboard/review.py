"""Dashboard panels for review, in place of Wagtail's per-object workflow panels.

Wagtail's "awaiting your review" and "your objects in workflow" panels load every
task state and its object, a few queries each: 10,000 files in review would mean
tens of thousands of queries on the home page. These show counts and the oldest
few files with a fixed number of queries, and link to the filtered file listing.
Beside a file that could never reach pad.ma (``eligibility.file_export_warning``: no
oshash, or under 8 bytes) they say so, before anyone approves it.
"""

from django.contrib.contenttypes.models import ContentType
from django.db.models import CharField, Exists, OuterRef
from django.db.models.functions import Cast
from django.urls import reverse
from wagtail.admin.ui.components import Component
from wagtail.models import WorkflowState

from catalog.models import FileEntry, ReviewState
from workflow.export.eligibility import file_export_warning
from workflow.models import is_reviewer

SHOWN = 8


def _submitted_by(user):
    return WorkflowState.objects.filter(
        base_content_type=ContentType.objects.get_for_model(FileEntry),
        object_id=Cast(OuterRef("pk"), CharField()),
        status=WorkflowState.STATUS_IN_PROGRESS,
        requested_by=user,
    )


def files_awaiting_review_by(user):
    """Files in review that ``user`` may review: never their own submissions."""
    return FileEntry.objects.filter(review_state=ReviewState.IN_REVIEW).exclude(
        Exists(_submitted_by(user))
    )


def files_submitted_by(user):
    return FileEntry.objects.filter(review_state=ReviewState.IN_REVIEW).filter(
        Exists(_submitted_by(user))
    )


class _FilesPanel(Component):
    template_name = "workflow/panels/files.html"
    title = ""
    empty = ""

    def __init__(self, files, listing_query: str):
        self.files = files
        self.listing_query = listing_query

    def get_context_data(self, parent_context=None):
        listing = reverse("wagtailsnippets_catalog_fileentry:list")
        files = list(self.files.select_related("drive").order_by("pk")[:SHOWN])
        for file in files:
            # Before anyone approves it: a file pad.ma cannot tell apart is never sent.
            file.export_warning = file_export_warning(file)
        return {
            "title": self.title,
            "empty": self.empty,
            "count": self.files.count(),
            "files": files,
            "listing_url": f"{listing}?{self.listing_query}",
        }


class ReviewQueuePanel(_FilesPanel):
    name = "phs_review_queue"
    order = 100
    title = "Files waiting for your review"
    empty = "Nothing is waiting for your review."


class MyFilesInReviewPanel(_FilesPanel):
    name = "phs_my_files_in_review"
    order = 110
    title = "Your files in review"
    empty = "None of your decisions is waiting for review."


def review_panels(request, panels: list) -> None:
    """construct_homepage_panels hook: swap Wagtail's workflow panels for ours."""
    replaced = {"workflow_objects_to_moderate", "user_objects_in_workflow_moderation"}
    panels[:] = [panel for panel in panels if getattr(panel, "name", "") not in replaced]
    user = request.user
    if is_reviewer(user):
        panels.append(ReviewQueuePanel(files_awaiting_review_by(user), "review_state=in_review"))
    panels.append(MyFilesInReviewPanel(files_submitted_by(user), "review_state=in_review"))
