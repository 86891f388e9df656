"""Numbers for monitoring (``/healthz``) and the admin: how far behind the export is,
and why each request stands where it does."""

from django.db.models import Count, Min, Q
from django.template.defaultfilters import pluralize
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


def request_message(request: ExportRequest, *, now=None) -> str:
    """The export report's *Message*: why a request is pending, failed or skipped.

    A retry in backoff says when (in the archive's time zone) and which attempt comes
    next; a request the runner could not send says what stopped it (recorded by
    ``runner.note_waiting``: settings missing, sign-in refused, pad.ma unreachable).
    """
    now = now or timezone.now()
    error = request.last_error
    if request.state == ExportState.PENDING:
        if request.next_attempt_at and request.next_attempt_at > now:
            when = _local_time(request.next_attempt_at, now)
            return f"Retrying after {when} (attempt {request.attempts + 1}): {error}"
        return error or "Waiting for the next export run"
    if request.state == ExportState.FAILED:
        attempts = request.attempts
        return (
            f"Gave up after {attempts} attempt{pluralize(attempts)}: {error}; "
            "export_padma --retry-failed tries again"
        )
    return error


def _local_time(moment, now) -> str:
    """14:05 today, 5 Dec 02:10 on another day."""
    moment, today = timezone.localtime(moment), timezone.localtime(now).date()
    if moment.date() == today:
        return f"{moment:%H:%M}"
    return f"{moment.day} {moment:%b %H:%M}"


def upload_message(file) -> str:
    """The export report's *Upload* column: where the file's media stand on their way
    to pad.ma (``upload_padma``). ``file.media_upload`` is read through select_related."""
    from workflow.models import MediaUpload, UploadState

    from .upload.plan import MEDIA_CATEGORIES, SUBTITLE_SUFFIXES, format_bytes, kept_out_reason

    try:
        upload = file.media_upload
    except MediaUpload.DoesNotExist:
        upload = None
    if upload is None:
        subtitle = file.filename.lower().endswith(SUBTITLE_SUFFIXES)
        if file.category not in MEDIA_CATEGORIES and not subtitle:
            return kept_out_reason(file.category)
        return "Waiting for its drive (upload_padma --drive …)" if file.padma_id else ""
    state = upload.get_state_display()
    if upload.state == UploadState.UPLOADING:
        total = format_bytes(upload.upload_size) if upload.upload_size else "?"
        return f"Uploading {upload.profile}: {format_bytes(upload.bytes_sent)} of {total} sent"
    if upload.state == UploadState.ENCODING:
        return f"Encoding {upload.profile}"
    if upload.state == UploadState.DONE:
        when = f" {_local_time(upload.finished_at, timezone.now())}" if upload.finished_at else ""
        return f"Uploaded{when}: {upload.message}" if upload.message else f"Uploaded{when}"
    if upload.state == UploadState.FAILED:
        return f"Failed: {upload.message}"
    return upload.message or state
