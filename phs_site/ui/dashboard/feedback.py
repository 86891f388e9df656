"""What came back to a curator: the *Sent back to you* panel.

A reviewer's rejection leaves the file *needs attention* with the comment
(``workflow.services.review.on_rejected`` / ``bulk.reject``); its review stays open as
Wagtail's "needs changes", pointing at the rejected task state, which holds who sent it
back and when. One query reads the newest few with their reviewer, comment and time,
and the total with them (a window count), however many files came back.
"""

from django.db.models import Count, F, Window
from django.forms import Media
from django.urls import reverse
from wagtail.admin.ui.components import Component
from wagtail.models import WorkflowState

from catalog.models import FileEntry, ReviewState

SHOWN = 8


def sent_back_to(user, *, limit: int = SHOWN) -> tuple[list[FileEntry], int]:
    """The files ``user`` submitted that a reviewer sent back and that still wait for
    them, newest first, each with ``reviewer_*``, ``sent_back_at`` and ``review_comment``;
    and how many there are in all. One query."""
    files = (
        FileEntry.objects.filter(
            review_state=ReviewState.REJECTED,
            workflow_states__status=WorkflowState.STATUS_NEEDS_CHANGES,
            workflow_states__requested_by=user,
        )
        .annotate(
            sent_back_at=F("workflow_states__current_task_state__finished_at"),
            reviewer_username=F("workflow_states__current_task_state__finished_by__username"),
            reviewer_first_name=F("workflow_states__current_task_state__finished_by__first_name"),
            reviewer_last_name=F("workflow_states__current_task_state__finished_by__last_name"),
            total=Window(Count("pk")),
        )
        .select_related("drive")
        .order_by(F("sent_back_at").desc(nulls_last=True), "-pk")
    )
    rows = list(files[:limit])
    return rows, (rows[0].total if rows else 0)


def reviewer_name(file: FileEntry) -> str:
    full = f"{file.reviewer_first_name or ''} {file.reviewer_last_name or ''}".strip()
    return full or file.reviewer_username or "a reviewer"


class SentBackPanel(Component):
    name = "phs_sent_back"
    order = 40  # first: what waits for this curator's action
    template_name = "catalog/curate/panels/sent_back.html"

    def __init__(self, user):
        self.user = user

    @property
    def media(self):
        return Media(css={"all": ["catalog/curate/dashboard.css", "catalog/curate/feedback.css"]})

    def get_context_data(self, parent_context=None):
        files, total = sent_back_to(self.user)
        curate = reverse("phs_curate")
        listing = reverse("wagtailsnippets_catalog_fileentry:list")
        return {
            "total": total,
            "items": [
                {
                    "file": file,
                    "reviewer": reviewer_name(file),
                    "url": f"{curate}?drive={file.drive_id}&file={file.pk}",
                }
                for file in files
            ],
            "listing_url": f"{listing}?review_state={ReviewState.REJECTED}",
        }
