"""Numbers for monitoring (``/healthz``) and the admin: how far behind the export is."""

from django.db.models import Count, Min, Q
from django.utils import timezone

from workflow.models import ExportRequest, ExportState


def export_backlog() -> dict:
    """Pending requests, the oldest pending one's age in seconds, and given-up failures.

    One aggregate query over the ``(state, next_attempt_at)`` index.
    """
    totals = ExportRequest.objects.filter(
        state__in=[ExportState.PENDING, ExportState.FAILED]
    ).aggregate(
        pending=Count("pk", filter=Q(state=ExportState.PENDING)),
        failed=Count("pk", filter=Q(state=ExportState.FAILED)),
        oldest=Min("requested_at", filter=Q(state=ExportState.PENDING)),
    )
    oldest = totals["oldest"]
    return {
        "pending": totals["pending"],
        "oldest_pending_age_seconds": (
            (timezone.now() - oldest).total_seconds() if oldest is not None else None
        ),
        "failed": totals["failed"],
    }
